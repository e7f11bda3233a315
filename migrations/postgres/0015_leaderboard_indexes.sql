-- /leaderboard reads the top of these orders and counts who is ahead of one user: indexes
-- keep both from scanning every row.
CREATE INDEX users_by_currency ON users (currency DESC, id);
CREATE INDEX reputation_by_points ON reputation (points DESC, user_id);
