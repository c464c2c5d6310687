"""Cron schedules of JOBX jobs and scan projects, fired by one `@app.schedule` every minute."""
