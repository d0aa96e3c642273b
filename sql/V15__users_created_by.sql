-- Who made each user: a council administrator adding a second finance officer (the second person
-- of maker-checker) is visible in the council's list of users, for its auditors.
ALTER TABLE users ADD COLUMN created_by uuid;
ALTER TABLE users ADD FOREIGN KEY (council_id, created_by) REFERENCES users (council_id, id);
