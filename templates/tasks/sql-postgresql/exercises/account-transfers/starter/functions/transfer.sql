-- Moves amount_cents from one account to another and records it in the ledger.
CREATE OR REPLACE FUNCTION transfer(from_account int, to_account int, amount_cents bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET balance_cents = balance_cents - amount_cents WHERE id = from_account;
    UPDATE accounts SET balance_cents = balance_cents + amount_cents WHERE id = to_account;
    INSERT INTO ledger (from_account, to_account, amount_cents)
    VALUES (from_account, to_account, amount_cents);
END;
$$;
