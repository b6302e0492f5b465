-- Form validation for contacts: each check returns a message, or nil when the value is fine.
local validation = {}

function validation.trim(text)
  return (tostring(text or ""):match("^%s*(.-)%s*$"))
end

function validation.name(value)
  local name = validation.trim(value)
  if name == "" then return "Please enter a name." end
  if utf8.len(name) and utf8.len(name) > 60 then return "Keep the name under 60 characters." end
  return nil
end

-- `contacts` and `except` check that no other contact has the same address.
function validation.email(value, contacts, except)
  local email = validation.trim(value)
  if email == "" then return nil end
  if not email:match("^[^%s@]+@[^%s@]+%.[^%s@]+$") then
    return "That does not look like an email address."
  end
  for _, other in ipairs(contacts or {}) do
    if other ~= except and other.email:lower() == email:lower() then
      return "Another contact already uses this address."
    end
  end
  return nil
end

function validation.phone(value)
  local phone = validation.trim(value)
  if phone == "" then return nil end
  if not phone:match("^[%d%s%+%-%(%)%.]+$") then
    return "Use digits, spaces and + - ( ) only."
  end
  local _, digits = phone:gsub("%d", "")
  if digits < 5 then return "A phone number needs at least 5 digits." end
  return nil
end

return validation
