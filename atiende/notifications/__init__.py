"""Agents' notifications (the console's bell, email by preference) and who is on a case
right now (presence). The domain apps publish events (`core.events`); `receivers` turns
them into notifications, so no domain app imports this one."""
