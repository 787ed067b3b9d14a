-- Moves amount_cents from one account to another and records it in the ledger. Everything is
-- checked before the first change; an exception undoes the whole call, so a refused transfer
-- changes nothing.
CREATE OR REPLACE FUNCTION transfer(from_account int, to_account int, amount_cents bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    IF amount_cents <= 0 THEN
        RAISE EXCEPTION 'amount must be positive, got %', amount_cents;
    END IF;
    -- lock both rows in id order: two opposite transfers cannot deadlock
    PERFORM 1 FROM accounts WHERE id IN (from_account, to_account) ORDER BY id FOR UPDATE;
    SELECT a.balance_cents INTO balance FROM accounts a WHERE a.id = from_account;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown account %', from_account;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = to_account) THEN
        RAISE EXCEPTION 'unknown account %', to_account;
    END IF;
    IF balance < amount_cents THEN
        RAISE EXCEPTION 'insufficient funds in account %: % < %', from_account, balance,
            amount_cents;
    END IF;
    UPDATE accounts SET balance_cents = balance_cents - amount_cents WHERE id = from_account;
    UPDATE accounts SET balance_cents = balance_cents + amount_cents WHERE id = to_account;
    INSERT INTO ledger (from_account, to_account, amount_cents)
    VALUES (from_account, to_account, amount_cents);
END;
$$;
