-- A contact: what the book stores, and how it shows itself in the favourites strip
-- (Contact.list-item) and in the detail panel (Contact.detail).
local Contact = session:prototype("Contact", {
  id = 0, -- its number in the page's address (/contacts/<id>), given by the book
  name = "",
  email = "",
  phone = "",
  notes = "",
  favourite = false,
})

local PALETTE = {
  "#2563eb", "#7c3aed", "#db2777", "#ea580c", "#059669", "#0891b2", "#4f46e5", "#b45309",
}
-- One UTF-8 character at the start of a string.
local FIRST_CHAR = "^[\1-\127\194-\244][\128-\191]*"

local function book()
  return session:getApp()
end

function Contact:initials()
  local letters = {}
  for word in self.name:gmatch("%S+") do
    letters[#letters + 1] = word:match(FIRST_CHAR)
    if #letters == 2 then break end
  end
  return table.concat(letters):upper()
end

function Contact:firstName()
  return self.name:match("%S+") or ""
end

-- A stable colour per name, for the initials avatar.
function Contact:color()
  local sum = 0
  for i = 1, #self.name do
    sum = (sum * 31 + self.name:byte(i)) % 65521
  end
  return PALETTE[sum % #PALETTE + 1]
end

function Contact:subtitle()
  if self.email ~= "" then return self.email end
  if self.phone ~= "" then return self.phone end
  return "No details yet"
end

function Contact:mailto()
  if self.email == "" then return nil end
  return "mailto:" .. self.email
end

local function orDash(text)
  if text == "" then return "—" end
  return text
end

function Contact:emailText() return orDash(self.email) end
function Contact:phoneText() return orDash(self.phone) end
function Contact:notesText() return orDash(self.notes) end

function Contact:favouriteMark()
  return self.favourite and "★" or "☆"
end

function Contact:favouriteTitle()
  return self.favourite and "Remove from favourites" or "Add to favourites"
end

function Contact:isFavourite()
  return self.favourite == true
end

function Contact:pressed()
  return tostring(self.favourite)
end

-- True when the lowercase query occurs in the name, email or phone.
function Contact:matches(query)
  if query == "" then return true end
  for _, field in ipairs({self.name, self.email, self.phone}) do
    if field:lower():find(query, 1, true) then return true end
  end
  return false
end

function Contact:isSelected() return book().selected == self end
function Contact:select() book():select(self) end
function Contact:edit() book():edit(self) end
function Contact:delete() book():delete(self) end

function Contact:toggleFavourite()
  self.favourite = not self.favourite
end

return Contact
