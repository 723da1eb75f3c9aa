-- Stores, catalog, customers, carts, orders, inbox and outbox. Money is integer cents.

CREATE TABLE stores (
    id                   bigserial PRIMARY KEY,
    code                 text NOT NULL UNIQUE,
    name                 text NOT NULL,
    currency             text NOT NULL,
    timezone             text NOT NULL,
    hours                jsonb NOT NULL,              -- {"mon": [[start_min, end_min], ...], ...}
    delivery_enabled     boolean NOT NULL,
    delivery_fee_cents   integer NOT NULL CHECK (delivery_fee_cents >= 0),
    minimum_order_cents  integer NOT NULL CHECK (minimum_order_cents >= 0),
    pickup_enabled       boolean NOT NULL,
    preparation_minutes  integer NOT NULL CHECK (preparation_minutes >= 0),
    accepting_orders     boolean NOT NULL DEFAULT true,   -- staff can pause ordering
    templates            jsonb NOT NULL DEFAULT '{}',     -- status -> {"content_sid", "variables"}
    menu                 jsonb NOT NULL,                  -- the validated menu document
    menu_version         integer NOT NULL DEFAULT 1,
    next_order_number    integer NOT NULL DEFAULT 1001,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per menu item; availability is operational state that staff toggle.
CREATE TABLE items (
    id            bigserial PRIMARY KEY,
    store_id      bigint NOT NULL REFERENCES stores(id),
    code          text NOT NULL,
    name          text NOT NULL,
    category      text NOT NULL,
    price_cents   integer NOT NULL CHECK (price_cents >= 0),
    available     boolean NOT NULL DEFAULT true,
    on_menu       boolean NOT NULL DEFAULT true,          -- false once a reload dropped it
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, code)
);

CREATE TABLE customers (
    id               bigserial PRIMARY KEY,
    store_id         bigint NOT NULL REFERENCES stores(id),
    address          text NOT NULL,                       -- Twilio's From, e.g. whatsapp:+15551230001
    wa_id            text,
    profile_name     text,
    opted_out        boolean NOT NULL DEFAULT false,
    opted_out_at     timestamptz,
    last_inbound_at  timestamptz,
    saved_address    text,
    saved_location   jsonb,
    mode             text NOT NULL DEFAULT 'bot' CHECK (mode IN ('bot', 'human')),
    mode_changed_at  timestamptz,
    state            jsonb NOT NULL DEFAULT '{}',          -- conversation state (pending question, checkout step)
    cart_updated_at  timestamptz,
    reply_seq        bigint NOT NULL DEFAULT 0,            -- last outbox seq written for this customer
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, address)
);

CREATE TABLE cart_lines (
    id                bigserial PRIMARY KEY,
    customer_id       bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    item_code         text NOT NULL,
    name              text NOT NULL,
    unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
    quantity          integer NOT NULL CHECK (quantity > 0 AND quantity <= 99),
    options           jsonb NOT NULL DEFAULT '[]',         -- [{"group","option","name","qualifier","price_cents"}]
    excluded          jsonb NOT NULL DEFAULT '[]',
    notes             text NOT NULL DEFAULT '',
    position          integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cart_lines_customer ON cart_lines (customer_id, position);

CREATE TABLE orders (
    id                   bigserial PRIMARY KEY,
    store_id             bigint NOT NULL REFERENCES stores(id),
    number               integer NOT NULL,
    customer_id          bigint NOT NULL REFERENCES customers(id),
    status               text NOT NULL CHECK (status IN ('placed', 'confirmed', 'preparing', 'ready',
                            'out_for_delivery', 'delivered', 'picked_up', 'cancelled')),
    fulfilment           text NOT NULL CHECK (fulfilment IN ('delivery', 'pickup')),
    delivery_address     text,
    delivery_location    jsonb,
    notes                text NOT NULL DEFAULT '',
    subtotal_cents       integer NOT NULL,
    delivery_fee_cents   integer NOT NULL,
    total_cents          integer NOT NULL,
    currency             text NOT NULL,
    confirm_message_sid  text UNIQUE,                     -- the inbound message that confirmed it
    estimated_ready_at   timestamptz,
    placed_at            timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, number)
);
CREATE INDEX orders_status ON orders (store_id, status, placed_at DESC);
CREATE INDEX orders_customer ON orders (customer_id, placed_at DESC);

CREATE TABLE order_lines (
    id                bigserial PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    item_code         text NOT NULL,
    name              text NOT NULL,                       -- copies: a menu reload never changes an order
    unit_price_cents  integer NOT NULL,
    quantity          integer NOT NULL,
    options           jsonb NOT NULL DEFAULT '[]',
    excluded          jsonb NOT NULL DEFAULT '[]',
    notes             text NOT NULL DEFAULT '',
    line_total_cents  integer NOT NULL,
    position          integer NOT NULL
);
CREATE INDEX order_lines_order ON order_lines (order_id, position);

CREATE TABLE order_status_history (
    id           bigserial PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    actor        text NOT NULL,                            -- 'customer', 'staff:<name>', 'system'
    reason       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, at);

-- Every inbound message handled, keyed by Twilio's MessageSid: a redelivery finds its row and does nothing.
CREATE TABLE inbox (
    message_sid   text PRIMARY KEY,
    customer_id   bigint REFERENCES customers(id),
    body          text NOT NULL DEFAULT '',
    fields        jsonb NOT NULL DEFAULT '{}',
    outcome       text NOT NULL DEFAULT 'handled',
    received_at   timestamptz NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_customer ON inbox (customer_id, received_at);

-- Replies decided in the same transaction as the inbound message; the relay publishes them.
CREATE TABLE outbox (
    id                 bigserial PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers(id),
    to_address         text NOT NULL,
    seq                bigint NOT NULL,                    -- per-customer order of replies
    body               text,
    content_sid        text,
    content_variables  text,
    order_id           bigint REFERENCES orders(id),
    purpose            text NOT NULL DEFAULT 'reply',      -- reply, status:<status>, staff, throttle
    status             text NOT NULL DEFAULT 'pending',    -- pending, not_sent, queued, sent, delivered, read, failed, undelivered
    status_rank        integer NOT NULL DEFAULT 0,
    twilio_sid         text UNIQUE,
    error_code         text,
    error_message      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    published_at       timestamptz,
    status_updated_at  timestamptz,
    UNIQUE (customer_id, seq),
    CHECK ((body IS NULL) <> (content_sid IS NULL))
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL AND status = 'pending';
CREATE INDEX outbox_order ON outbox (order_id);

-- Status callbacks by MessageSid; they may arrive before the notifier's send result names the sid.
CREATE TABLE delivery_events (
    id           bigserial PRIMARY KEY,
    message_sid  text NOT NULL,
    status       text NOT NULL,
    status_rank  integer NOT NULL,
    error_code   text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_sid, status)
);
