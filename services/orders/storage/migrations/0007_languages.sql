-- The customer's language (docs/languages.md): a locale code the product speaks ("en", "es",
-- "pt_BR"), NULL until their first message is read. Each order keeps the language it was
-- placed in, so staff see it on the order even after the customer switches.
ALTER TABLE customers ADD COLUMN language text;
ALTER TABLE orders ADD COLUMN language text;
