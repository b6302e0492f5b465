-- The contacts a new session starts with.
local Contact = require("contacts.contact")

return function()
  local people = {
    {"Ada Lovelace", "ada@example.com", "+44 20 7946 0018", "Analytical Engine notes", true},
    {"Alan Turing", "alan@example.com", "+44 161 496 0732", "", false},
    {"Grace Hopper", "grace@example.com", "+1 202 555 0143", "Ask about COBOL", true},
    {"Katherine Johnson", "katherine@example.com", "", "Trajectory checks", false},
    {"Edsger Dijkstra", "edsger@example.com", "+31 20 555 0190", "", false},
    {"Barbara Liskov", "barbara@example.com", "+1 617 555 0121", "", true},
    {"Donald Knuth", "", "+1 650 555 0164", "Cheques for errata", false},
    {"Margaret Hamilton", "margaret@example.com", "", "", false},
  }
  local contacts = {}
  for i, p in ipairs(people) do
    contacts[i] = Contact:new({name = p[1], email = p[2], phone = p[3], notes = p[4], favourite = p[5]})
  end
  return contacts
end
