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
  lastId = 0, -- the last contact number given out (contacts are /contacts/<number>)
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

-- The contact's number in the page's address, given out on first use.
function ContactBook:numberOf(contact)
  if (contact.id or 0) == 0 then
    self.lastId = (self.lastId or 0) + 1
    contact.id = self.lastId
  end
  return contact.id
end

function ContactBook:find(number)
  for _, contact in ipairs(self.contacts) do
    if self:numberOf(contact) == number then return contact end
  end
  return nil
end

-- The page's title follows the contact on show.
function ContactBook:showTitle()
  if self.selected then
    session:setTitle(self.selected.name .. " · Contacts")
  else
    session:setTitle("Contacts")
  end
end

-- Puts the contact on show in the address bar: /contacts/<number>, or / for none.
function ContactBook:showAddress()
  local path = "/"
  if self.selected then path = "/contacts/" .. self:numberOf(self.selected) end
  if session.url.path ~= path then session:navigate(path) end
  self:showTitle()
end

-- The browser's address changed (a deep link, back or forward): show what it names.
function ContactBook:route(path)
  local number = tonumber(path:match("^/contacts/(%d+)/?$"))
  local contact = number and self:find(number)
  self.selected = contact
  self.editor = nil
  if number and not contact then self:flash("There is no contact number " .. number) end
  self:showTitle()
end

function ContactBook:select(contact)
  self.selected = contact
  self.editor = nil
  self:showAddress()
end

-- Back to the list (the phone layout's back button).
function ContactBook:closePanel()
  self:select(nil)
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
  self:showAddress()
  self:flash((isNew and "Added " or "Saved ") .. contact.name)
end

function ContactBook:delete(contact)
  for i, other in ipairs(self.contacts) do
    if other == contact then
      table.remove(self.contacts, i)
      if self.selected == contact then self.selected = nil end
      if self.editor and self.editor.contact == contact then self.editor = nil end
      self:showAddress()
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
  self:showAddress()
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
