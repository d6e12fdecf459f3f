"""The scheduler's parts below its entry point `shelfcheck.scheduler`: the configured jobs and
their cron triggers (`cron`), and the job store with the plan `schedule --list` shows (`store`)."""
