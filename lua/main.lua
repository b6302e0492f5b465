-- The embedded default app: a small contact book (lua/contacts/*, viewdefs/*).
local ContactBook = require("contacts.book")
local seed = require("contacts.seed")

if not session:getApp() then
  local book = ContactBook:new({contacts = seed()})
  for _, contact in ipairs(book.contacts) do book:numberOf(contact) end
  session:createAppVariable(book)
  session:setTitle("Contacts")
  -- The browser reports its address on load (a deep link) and on back/forward.
  session:watchProperty(1, "url", function()
    session:getApp():route(session.url.path)
  end)
end
