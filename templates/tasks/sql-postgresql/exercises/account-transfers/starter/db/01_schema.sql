-- Wallet accounts and the ledger of transfers between them.
CREATE TABLE accounts (
    id            int PRIMARY KEY,
    owner         text NOT NULL,
    balance_cents bigint NOT NULL
);

CREATE TABLE ledger (
    id           serial PRIMARY KEY,
    from_account int NOT NULL,
    to_account   int NOT NULL,
    amount_cents bigint NOT NULL,
    created_at   timestamp NOT NULL DEFAULT now()
);
