"""Time units shared by the model: the fast layer works in hours, the slow clock in days."""

#: Hours per day: modules on the daily clock multiply hourly rates by this.
HOURS_PER_DAY = 24.0
