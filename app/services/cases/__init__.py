"""Cases, their clients, plans, actions, notes, referrals and the intake checklist."""
