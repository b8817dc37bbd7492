"""One module per `analytics report --type`: market, portfolio, trading; `analytics.report` renders them."""
