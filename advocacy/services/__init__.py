"""Every write of the sharing app: `sharing` (create, cancel, confirm, queue, pause),
`pipeline` (publish, retry, recall, sweep), `clicks`, `accounts`, `activity`."""
