-- Reputation: how many members vouched for each user, and when each giver last gave (once a
-- day). A point is one transaction: the giver's row moves only if a day has passed, and the
-- receiver's count rises with it.
CREATE TABLE reputation (
    user_id BIGINT  PRIMARY KEY REFERENCES users (id),
    points  BIGINT  NOT NULL DEFAULT 0 CHECK (points >= 0)
);

CREATE TABLE reputation_given (
    giver_id BIGINT  PRIMARY KEY REFERENCES users (id),
    last_at  BIGINT  NOT NULL,                -- Unix milliseconds
    last_to  BIGINT  NOT NULL
);
