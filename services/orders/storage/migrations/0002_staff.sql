-- The staff dashboard: accounts, server-side sessions, and the change feed its live views read.

CREATE TABLE staff_users (
    id             bigserial PRIMARY KEY,
    email          text NOT NULL,
    name           text NOT NULL DEFAULT '',
    password_hash  text NOT NULL,                 -- argon2id, PHC string format
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);
CREATE UNIQUE INDEX staff_users_email ON staff_users (lower(email));

-- One row per signed-in browser. The cookie carries the session id signed with SESSION_SECRET;
-- only its SHA-256 is stored, so a copy of this table signs nobody in. Deleting a row revokes it.
CREATE TABLE staff_sessions (
    id_hash       text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    address       text
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);

-- What changed, written by triggers in the transaction that changed it, so every writer (the
-- conversation, the staff API, the dashboard, a future one) feeds the live views and nothing is
-- published before it commits. The dashboard's event relay moves rows to the Redis stream
-- `{p}:events` after commit and deletes them; NOTIFY (delivered at commit) wakes it at once.
CREATE TABLE staff_events (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('order', 'conversation', 'message', 'menu')),
    order_id     bigint,
    customer_id  bigint,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION staff_event_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO staff_events (kind, order_id, customer_id) VALUES ('order', NEW.id, NEW.customer_id);
    PERFORM pg_notify('staff_events', '');
    RETURN NULL;
END $$;

-- A customer handed to staff or back to the bot, or a message from a customer staff talk to.
CREATE FUNCTION staff_event_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO staff_events (kind, customer_id) VALUES ('conversation', NEW.customer_id);
    PERFORM pg_notify('staff_events', '');
    RETURN NULL;
END $$;

-- An outbound message staff care about: a staff reply, or a delivery state of an order's message.
CREATE FUNCTION staff_event_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO staff_events (kind, order_id, customer_id) VALUES ('message', NEW.order_id, NEW.customer_id);
    PERFORM pg_notify('staff_events', '');
    RETURN NULL;
END $$;

CREATE FUNCTION staff_event_menu() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO staff_events (kind) VALUES ('menu');
    PERFORM pg_notify('staff_events', '');
    RETURN NULL;
END $$;

CREATE TRIGGER orders_placed AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION staff_event_order();
CREATE TRIGGER orders_moved AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION staff_event_order();

CREATE FUNCTION staff_event_customer_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO staff_events (kind, customer_id) VALUES ('conversation', NEW.id);
    PERFORM pg_notify('staff_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER customers_mode AFTER UPDATE OF mode ON customers
    FOR EACH ROW WHEN (OLD.mode IS DISTINCT FROM NEW.mode) EXECUTE FUNCTION staff_event_customer_mode();

-- consumer.py sets customer_id and outcome once the conversation decided; `human_mode` means the
-- bot stayed quiet because staff have the conversation.
CREATE TRIGGER inbox_for_staff AFTER UPDATE OF customer_id, outcome ON inbox
    FOR EACH ROW WHEN (NEW.outcome = 'human_mode' AND NEW.customer_id IS NOT NULL)
    EXECUTE FUNCTION staff_event_conversation();

CREATE TRIGGER outbox_staff_reply AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NEW.purpose = 'staff') EXECUTE FUNCTION staff_event_message();
CREATE TRIGGER outbox_delivery AFTER UPDATE OF status ON outbox
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       AND (NEW.order_id IS NOT NULL OR NEW.purpose LIKE 'staff%'))
    EXECUTE FUNCTION staff_event_message();

CREATE TRIGGER items_availability AFTER UPDATE OF available ON items
    FOR EACH ROW WHEN (OLD.available IS DISTINCT FROM NEW.available) EXECUTE FUNCTION staff_event_menu();
CREATE TRIGGER stores_accepting AFTER UPDATE OF accepting_orders ON stores
    FOR EACH ROW WHEN (OLD.accepting_orders IS DISTINCT FROM NEW.accepting_orders)
    EXECUTE FUNCTION staff_event_menu();
