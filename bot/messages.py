"""Messages more than one layer says."""

DATABASE_DOWN = "Firebell cannot reach its database, nothing was changed. Try again in a minute."
