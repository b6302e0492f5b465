-- Bench fixture: a counter, a text field and a list of rows, the shape of a small real app.
-- The click round trip uses click() and count, the load test also writes text and reads
-- shown(), and change detection fills rows with fill(n) and changes them with bump(all).

local Row = {type = "Row"}
Row.__index = Row

function Row:label()
  return self.name .. " (" .. self.value .. ")"
end

local App = {type = "App"}
App.__index = App

function App:click()
  self.count = self.count + 1
end

function App:shown()
  return self.text
end

function App:fill(n)
  local rows = {}
  for i = 1, n do
    rows[i] = setmetatable({value = i, name = "row " .. i, tags = {"a", "b"}}, Row)
  end
  self.rows = rows
end

function App:bump(all)
  local last = all and #self.rows or 1
  for i = 1, last do
    local row = self.rows[i]
    row.value = row.value + 1
    row.name = "row " .. row.value
  end
end

local app = setmetatable({count = 0, text = "", title = "Bench", rows = {}}, App)
app:fill(5)
session:createAppVariable(app)
