"""casusoverleg: coordination service for the municipal approach to complex substance problems."""
