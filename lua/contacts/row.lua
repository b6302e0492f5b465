-- The presenter of one row of the contact list (the list's itemWrapper): what the row shows
-- and what its buttons do. A row keeps its presenter when its position shows another contact.
local ContactRow = session:prototype("ContactRow", {contact = EMPTY})

function ContactRow:new(info)
  local row = info.item
  if type(row) == "table" and getmetatable(row) == ContactRow then
    row.contact = info.baseItem
    return row
  end
  return session:create(ContactRow, {contact = info.baseItem})
end

function ContactRow:name() return self.contact.name end
function ContactRow:subtitle() return self.contact:subtitle() end
function ContactRow:initials() return self.contact:initials() end
function ContactRow:color() return self.contact:color() end
function ContactRow:favouriteMark() return self.contact:favouriteMark() end
function ContactRow:favouriteTitle() return self.contact:favouriteTitle() end
function ContactRow:isFavourite() return self.contact:isFavourite() end
function ContactRow:isSelected() return self.contact:isSelected() end
function ContactRow:select() self.contact:select() end
function ContactRow:edit() self.contact:edit() end
function ContactRow:delete() self.contact:delete() end
function ContactRow:toggleFavourite() self.contact:toggleFavourite() end

ui.registerPresenter("ContactRow", ContactRow)

return ContactRow
