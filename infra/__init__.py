"""The site's small library: what every app's code may use and that knows no app.

Work after a commit (`after_commit`), counters per key and window (`ratelimit`), the
client address behind trusted proxies (`client_address`, `throttling`), the database
connection pool and engine (`db/`), the read-replica router (`read_replica`), bounded
thread pools (`thread_pools`), request metrics, Celery's RabbitMQ queues
(`task_queues`), and the guards a process puts around itself (`listen_address`,
`database_unavailable`, `error_reports`). It imports no app and not the wiring
(`livesite`); `make lint` checks that.
"""
