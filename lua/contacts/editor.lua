-- The form that adds or edits a contact. Problems show once the user tried to save, and then
-- follow every keystroke.
local Contact = require("contacts.contact")
local validation = require("contacts.validation")

local ContactEditor = session:prototype("ContactEditor", {
  contact = EMPTY, -- the contact being edited; nil for a new one
  name = "",
  email = "",
  phone = "",
  notes = "",
  favourite = false,
  submitted = false,
})

function ContactEditor.forContact(contact)
  local editor = ContactEditor:new({contact = contact})
  if contact then
    editor.name = contact.name
    editor.email = contact.email
    editor.phone = contact.phone
    editor.notes = contact.notes
    editor.favourite = contact.favourite
  end
  return editor
end

function ContactEditor:title()
  if self.contact then return "Edit " .. self.contact.name end
  return "New contact"
end

function ContactEditor:saveLabel()
  return self.contact and "Save changes" or "Add contact"
end

function ContactEditor:problems()
  return {
    name = validation.name(self.name),
    email = validation.email(self.email, session:getApp().contacts, self.contact),
    phone = validation.phone(self.phone),
  }
end

local function problem(editor, field)
  if not editor.submitted then return "" end
  return editor:problems()[field] or ""
end

function ContactEditor:nameError() return problem(self, "name") end
function ContactEditor:emailError() return problem(self, "email") end
function ContactEditor:phoneError() return problem(self, "phone") end
function ContactEditor:nameInvalid() return self:nameError() ~= "" end
function ContactEditor:emailInvalid() return self:emailError() ~= "" end
function ContactEditor:phoneInvalid() return self:phoneError() ~= "" end
-- An invalid field points at its message (aria-describedby), so a screen reader says why.
local function describedBy(editor, field)
  if problem(editor, field) == "" then return nil end
  return "editor-" .. field .. "-error"
end
function ContactEditor:nameDescribedBy() return describedBy(self, "name") end
function ContactEditor:emailDescribedBy() return describedBy(self, "email") end
function ContactEditor:phoneDescribedBy() return describedBy(self, "phone") end

function ContactEditor:save()
  self.submitted = true
  local problems = self:problems()
  if problems.name or problems.email or problems.phone then return end
  local contact = self.contact or Contact:new()
  contact.name = validation.trim(self.name)
  contact.email = validation.trim(self.email)
  contact.phone = validation.trim(self.phone)
  contact.notes = validation.trim(self.notes)
  contact.favourite = self.favourite == true
  session:getApp():saved(contact, self.contact == nil)
end

function ContactEditor:cancel()
  session:getApp():closeEditor()
end

return ContactEditor
