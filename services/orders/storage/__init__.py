"""PostgreSQL: the pool, one module per table family holding its SQL, the outbox and its relay,
and the migrations. Imports only `menu` of orders (a store row carries its menu)."""
