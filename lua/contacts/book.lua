-- The app: a contact book with search, favourites, a detail panel and an editor.
local Contact = require("contacts.contact")
local ContactEditor = require("contacts.editor")
require("contacts.row")

local ContactBook = session:prototype("ContactBook", {
  contacts = EMPTY, -- every Contact, in the order they were added
  selected = EMPTY, -- the Contact shown in the panel
  editor = EMPTY, -- the ContactEditor, while adding or editing
  search = "",
  notice = "", -- a short message at the bottom ("Deleted Ada Lovelace")
  trash = EMPTY, -- {contact, index} of the last deletion, while it can be undone
})

local NOTICE_MS = 5000
local noticeTimer = nil

local function byName(a, b)
  return a.name:lower() < b.name:lower()
end

local function plural(n, word)
  if n == 1 then return "1 " .. word end
  return n .. " " .. word .. "s"
end

function ContactBook:query()
  return (tostring(self.search or ""):lower():match("^%s*(.-)%s*$"))
end

-- The contacts that match the search, sorted by name.
function ContactBook:visible()
  local query, list = self:query(), {}
  for _, contact in ipairs(self.contacts) do
    if contact:matches(query) then list[#list + 1] = contact end
  end
  table.sort(list, byName)
  return list
end

function ContactBook:favourites()
  local list = {}
  for _, contact in ipairs(self.contacts) do
    if contact.favourite then list[#list + 1] = contact end
  end
  table.sort(list, byName)
  return list
end

function ContactBook:summary()
  return plural(#self.contacts, "contact") .. " · " .. plural(#self:favourites(), "favourite")
end

function ContactBook:matchSummary()
  if self:query() == "" then return "" end
  return #self:visible() .. " of " .. #self.contacts .. " match “" .. self:query() .. "”"
end

function ContactBook:noSearch() return self:query() == "" end
function ContactBook:hasVisible() return #self:visible() > 0 end
function ContactBook:noFavourites() return #self:favourites() == 0 end
function ContactBook:panel() return self.editor or self.selected end
function ContactBook:hasPanel() return self:panel() ~= nil end
function ContactBook:noNotice() return self.notice == "" end
function ContactBook:cannotUndo() return self.trash == nil end

function ContactBook:select(contact)
  self.selected = contact
  self.editor = nil
end

-- Enter in the search field opens the first match.
function ContactBook:selectFirst()
  local first = self:visible()[1]
  if first then self:select(first) end
end

function ContactBook:clearSearch()
  self.search = ""
end

function ContactBook:newContact()
  self.editor = ContactEditor.forContact(nil)
end

function ContactBook:edit(contact)
  self.selected = contact
  self.editor = ContactEditor.forContact(contact)
end

function ContactBook:closeEditor()
  self.editor = nil
end

function ContactBook:saved(contact, isNew)
  if isNew then table.insert(self.contacts, contact) end
  self.editor = nil
  self.selected = contact
  self:flash((isNew and "Added " or "Saved ") .. contact.name)
end

function ContactBook:delete(contact)
  for i, other in ipairs(self.contacts) do
    if other == contact then
      table.remove(self.contacts, i)
      if self.selected == contact then self.selected = nil end
      if self.editor and self.editor.contact == contact then self.editor = nil end
      self:flash("Deleted " .. contact.name, {contact = contact, index = i})
      return
    end
  end
end

function ContactBook:undo()
  local trash = self.trash
  if not trash then return end
  table.insert(self.contacts, math.min(trash.index, #self.contacts + 1), trash.contact)
  self.selected = trash.contact
  self:flash("Restored " .. trash.contact.name)
end

-- Shows a notice for a few seconds; `trash` makes it offer Undo.
function ContactBook:flash(text, trash)
  self.notice = text
  self.trash = trash
  if noticeTimer then session:clearTimeout(noticeTimer) end
  noticeTimer = session:setTimeout(function()
    noticeTimer = nil
    self.notice = ""
    self.trash = nil
  end, NOTICE_MS)
end

function ContactBook:dismissNotice()
  self.notice = ""
  self.trash = nil
end

return ContactBook
