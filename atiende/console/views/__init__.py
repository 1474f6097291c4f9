"""The console's views, one module per page family. Views are thin: parse, authorise
(`access.agent_required`), call a selector or a service, render."""
