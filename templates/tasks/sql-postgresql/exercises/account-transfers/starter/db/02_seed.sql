INSERT INTO accounts (id, owner, balance_cents) VALUES
    (1, 'Ada', 10000),
    (2, 'Grace', 2500),
    (3, 'Linus', 0);
