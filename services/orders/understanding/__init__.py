"""Reading a customer's message against a menu: the order parser, its menu index (lexicon),
numbers and English words. Pure and deterministic; imports only `menu`."""
