-- The embedded default app (placeholder until the app model lands).
local App = {type = "App", count = 0, name = "world"}
App.__index = App

function App:add()
  self.count = self.count + 1
end

function App:greeting()
  return "Hello, " .. self.name
end

session:createAppVariable(setmetatable({}, App))
