# The exporter as a Nomad service: lifecycle, in-sandbox, storage and capacity probes against the
# E2B deployments listed under `targets`, one allocation per region (run one job per region). Host
# probes are off here: e2b-bench-host.nomad.hcl runs them on every client node.
#
# Secrets live in Nomad variables, never in the job:
#   nomad var put nomad/jobs/e2b-bench e2b_api_key=e2b_... auth_token=...
#   nomad job run -var 'region_label=eu-west-1' deploy/nomad/e2b-bench.nomad.hcl

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "node_pool" {
  type        = string
  default     = "api"
  description = "Where the exporter runs: not on a client node, whose CPUs the sandboxes need."
}

variable "image" {
  type        = string
  default     = "e2b-bench:latest"
  description = "The image built from this repository's Dockerfile, pushed to a registry the nodes pull from."
}

variable "port" {
  type    = number
  default = 9477
}

variable "region_label" {
  type        = string
  default     = "default"
  description = "Region this exporter serves; also its instance name."
}

variable "e2b_domain" {
  type        = string
  default     = "e2b.example.com"
  description = "Domain of the self-hosted E2B deployment to probe (its API at api.<domain>)."
}

variable "cloud_provider" {
  type    = string
  default = "aws"
}

variable "cloud_region" {
  type    = string
  default = "us-east-1"
}

job "e2b-bench" {
  type        = "service"
  datacenters = var.datacenters
  node_pool   = var.node_pool

  group "exporter" {
    # One exporter per region: two would double the probing (and what it costs).
    count = 1

    network {
      port "http" {
        to = var.port
      }
    }

    service {
      name     = "e2b-bench"
      port     = "http"
      provider = "nomad"
      # Prometheus's nomad_sd_configs keeps services tagged "prometheus" (see docs/deployment.md).
      tags = ["prometheus", "e2b-bench", "region-${var.region_label}"]

      check {
        name     = "ready"
        type     = "http"
        path     = "/-/ready"
        interval = "15s"
        timeout  = "3s"
      }
    }

    restart {
      attempts = 3
      interval = "10m"
      delay    = "30s"
      mode     = "delay"
    }

    task "e2b-bench" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
        args  = ["serve", "--config", "/local/e2b-bench.yml", "--listen", "0.0.0.0:${var.port}"]
      }

      # Secrets from Nomad variables become environment variables of the task only; the config
      # reads them through ${...} interpolation.
      template {
        destination = "secrets/e2b-bench.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/e2b-bench" }}
          E2B_API_KEY={{ .e2b_api_key }}
          E2BBENCH_AUTH_TOKEN={{ .auth_token }}
          {{- end }}
        EOT
      }

      template {
        destination   = "local/e2b-bench.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          server:
            auth_token: "$${E2BBENCH_AUTH_TOKEN}"
            # Stable across restarts: the reaper kills leftovers of this instance only.
            instance: "e2b-bench-${var.region_label}"
          # The exporter's own node is no E2B node: host probes run in e2b-bench-host.
          probes:
            host.info: { enabled: false }
            host.cpu: { enabled: false }
            host.memory: { enabled: false }
            host.disk: { enabled: false }
            host.network: { enabled: false }
            host.hugepages: { enabled: false }
            host.internet: { enabled: false }
          local_runtime: { enabled: false }
          targets:
            - name: ${var.cloud_provider}-${var.cloud_region}
              cloud_provider: ${var.cloud_provider}
              cloud_region: ${var.cloud_region}
              e2b: { api_key: "$${E2B_API_KEY}", domain: ${var.e2b_domain} }
        EOT
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
