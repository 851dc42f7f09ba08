"""Programme statistics above orders: tier evaluation, team figures, leaderboards, the spending threshold."""
