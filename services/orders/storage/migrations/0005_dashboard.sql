-- The dashboard on a kitchen tablet: what each message did to the cart (so an order's card
-- quotes the messages that made it), allergy and diet notes classified when the order is
-- placed, staff roles (the owner manages accounts) and who on the staff sent a message.

-- What the turn of one inbound message did to the customer's cart, decided in the transaction
-- that handled it: NULL nothing; 'started' the cart holds lines and none of them was there
-- before (the first line after an order, a clear or an expiry); 'changed' lines were added,
-- edited or removed and some remain; 'emptied' the cart had lines and has none (an order was
-- placed, the cart cleared or expired).
ALTER TABLE inbox ADD COLUMN cart_change text
    CHECK (cart_change IN ('started', 'changed', 'emptied'));

-- Notes the conversation classified when the order was placed (services/orders/conversation/
-- note_flags.py): 'allergy', 'diet', or NULL for an ordinary note (or none).
ALTER TABLE orders ADD COLUMN notes_flag text CHECK (notes_flag IN ('allergy', 'diet'));
ALTER TABLE order_lines ADD COLUMN notes_flag text CHECK (notes_flag IN ('allergy', 'diet'));

-- The owner adds, disables and resets staff accounts. The oldest account (the one created
-- from ADMIN_EMAIL) becomes the owner.
ALTER TABLE staff_users ADD COLUMN role text NOT NULL DEFAULT 'staff' CHECK (role IN ('owner', 'staff'));
UPDATE staff_users SET role = 'owner' WHERE id = (SELECT min(id) FROM staff_users);

-- The staff member whose action queued a message (a reply, a handoff, a release).
ALTER TABLE outbox ADD COLUMN staff_user_id bigint REFERENCES staff_users(id);
