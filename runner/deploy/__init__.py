"""Deployments onto droplets, the domain the `Droplet`, `Deployment` and replica kinds (and the
`deployments` command) delegate to: where things live on a droplet, leases on its slots, file
sync, run/health/reset, the safety check of scripts, claims by candidates. Reaches droplets only
through the SSH door; never imports a kind."""
