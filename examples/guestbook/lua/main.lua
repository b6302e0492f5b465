-- A guestbook whose entries outlive the server: they are kept with store.get/set, the app's
-- key-value store on the session store (run with --app-store and --session-store kv:FILE or
-- redis://...). Store calls wait for the store, so they run in actions and timers, never in
-- main.lua itself or a getter: the entries are loaded by a timer that main.lua starts.

Entry = session:prototype("Entry", {name = "", message = ""})

Guestbook = session:prototype("Guestbook", {name = "", message = "", entries = {}, status = ""})

local MAX_ENTRIES = 100

local function trim(text)
  return (tostring(text or ""):match("^%s*(.-)%s*$"))
end

local function toEntries(stored)
  local entries = {}
  for i, item in ipairs(stored or {}) do
    entries[i] = Entry:new({name = item.name, message = item.message})
  end
  return entries
end

-- Reads the entries kept in the store (other sessions may have added some).
function Guestbook:load()
  self.entries = toEntries(store.get("entries"))
  self.status = ""
end

function Guestbook:sign()
  local name, message = trim(self.name), trim(self.message)
  if name == "" or message == "" then
    self.status = "Please give your name and a message"
    return
  end
  -- Read again before writing, so that entries signed meanwhile in other sessions are kept.
  local stored = store.get("entries") or {}
  table.insert(stored, 1, {name = name, message = message})
  while #stored > MAX_ENTRIES do table.remove(stored) end
  store.set("entries", stored)
  self.entries = toEntries(stored)
  self.message = ""
  self.status = "Thank you, " .. name
end

function Guestbook:summary()
  local count = #self.entries
  return count == 1 and "1 entry" or (count .. " entries")
end

book = Guestbook:new()
session:createAppVariable(book)
session:setTimeout(function() book:load() end, 0)
