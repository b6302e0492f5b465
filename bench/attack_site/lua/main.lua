-- Attack fixture (bench/attacks.ts): an app whose actions do what an attacker or a runaway
-- app would, each bound by the template so that the default template-only paths allow them.

local App = {type = "App"}
App.__index = App

-- The victim's trivial click.
function App:click()
  self.count = self.count + 1
end

-- getters: a writable text read through a getter that trims it with patterns.
function App:trimmed()
  return (self.text:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- luamem: a table grown as fast as possible.
local function grow()
  local t, i = {}, 0
  while true do
    i = i + 1
    t[i] = {i, i, i}
  end
end

function App:grow()
  grow()
end

-- luamem: a timer doing the same, every 10 ms.
function App:growEvery()
  session:setInterval(grow, 10)
end

-- luamem: one `..` of 190 operands of 16 MiB each.
function App:concat()
  local s = string.rep("x", 16 * 2 ^ 20)
  local r = s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s
  return #r
end

-- library: 300 x utf8.len on 15 MB.
function App:utf8()
  local s = string.rep("x", 15 * 2 ^ 20)
  local n = 0
  for _ = 1, 300 do
    n = n + utf8.len(s)
  end
  return n
end

-- library: os.date with a 2 MB format.
function App:date()
  return #os.date(string.rep("%c", 2 ^ 20))
end

-- library: ui.json_decode of 4 MB.
function App:json()
  return ui.json_decode("[" .. string.rep("0,", 2 * 2 ^ 20 - 1) .. "0]")
end

-- library: string.rep of 1 GiB.
function App:rep()
  return #string.rep("x", 2 ^ 30)
end

-- busy: a 250 ms action.
function App:busy()
  local x, t0 = 0, os.clock()
  while os.clock() - t0 < 0.25 do
    x = x + 1
  end
end

session:createAppVariable(setmetatable({count = 0, text = "", name = ""}, App))
