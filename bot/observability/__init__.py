"""What an operator sees of a running Firebell: its logs, its metrics, its health, and `firebell check`."""
