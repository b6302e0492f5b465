-- The embedded default app: a small contact book (lua/contacts/*, viewdefs/*).
local ContactBook = require("contacts.book")
local seed = require("contacts.seed")

if not session:getApp() then
  session:createAppVariable(ContactBook:new({contacts = seed()}))
end
