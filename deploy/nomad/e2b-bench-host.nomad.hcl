# Host probes on every E2B client node: a system job, one allocation per node, placed like E2B's
# own orchestrator job (node pool and node class of the client nodes). Each allocation measures the
# node it runs on (sysbench, fio, iperf3 on the node itself, no sandbox probes) and labels its
# series with that node: host = the Nomad node name, cloud and instance type from the cloud's
# metadata service, under the E2B target named in `target` (host: self) when set.
#
#   nomad job run -var 'node_pool=default' -var 'cloud=aws' -var 'target=aws-prod' \
#     deploy/nomad/e2b-bench-host.nomad.hcl

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Datacenters of the E2B client nodes."
}

variable "node_pool" {
  type        = string
  default     = "default"
  description = "Node pool of the E2B client nodes (E2B's orchestrator job runs there)."
}

variable "node_class" {
  type        = string
  default     = "client"
  description = "node.class of the E2B client nodes."
}

variable "install_dir" {
  type        = string
  default     = "/opt/e2b-bench"
  description = "Where e2b-bench is installed on the nodes (npm ci && npx tsc -p tsconfig.json), with sysbench, fio and iperf3."
}

variable "node_binary" {
  type        = string
  default     = "node"
  description = "Node.js 24 on the nodes (scripts/setup.sh provides one in .tools/ when the system's is older)."
}

variable "disk_directory" {
  type        = string
  default     = "/var/tmp"
  description = "Directory host.disk runs fio in: put it on the disk the sandboxes use."
}

variable "cloud" {
  type        = string
  default     = "aws"
  description = "Instance metadata service to read the node's cloud, region and instance type from: aws, gcp or azure."
}

variable "target" {
  type        = string
  default     = ""
  description = "Name of the E2B target these nodes serve; its host figures are placed under it. Empty: under none."
}

variable "target_cloud_provider" {
  type    = string
  default = "aws"
}

variable "target_domain" {
  type        = string
  default     = "e2b.example.com"
  description = "Domain of that E2B deployment (the host job runs no sandbox probe against it)."
}

variable "port" {
  type    = number
  default = 9478
}

job "e2b-bench-host" {
  type        = "system"
  datacenters = var.datacenters
  node_pool   = var.node_pool
  # Below E2B's orchestrator (90): benchmarks must never take a client node's place from it.
  priority = 40

  constraint {
    attribute = "${node.class}"
    value     = var.node_class
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "host" {
    network {
      port "http" {
        static = var.port
      }
    }

    service {
      name     = "e2b-bench-host"
      port     = "http"
      provider = "nomad"
      # Prometheus's nomad_sd_configs keeps services tagged "prometheus" (see docs/deployment.md).
      tags = ["prometheus", "e2b-bench", "scope-host"]

      check {
        name     = "ready"
        type     = "http"
        path     = "/-/ready"
        interval = "15s"
        timeout  = "3s"
      }
    }

    task "e2b-bench" {
      # raw_exec: sysbench and fio run on the node itself (its CPUs, its disks, no container
      # limits), as E2B's orchestrator does; the client must have the raw_exec plugin enabled.
      driver = "raw_exec"

      config {
        command = var.node_binary
        args    = ["${var.install_dir}/bin/e2b-bench.js", "serve", "--config", "${NOMAD_TASK_DIR}/e2b-bench.yml"]
      }

      env {
        # The node's identity, read by server.host in the config below.
        E2BBENCH_HOST_NAME = "${node.unique.name}"
        E2BBENCH_INSTANCE  = "${node.unique.name}/host"
      }

      template {
        destination = "local/e2b-bench.yml"
        change_mode = "signal"
        # SIGHUP reloads the configuration without dropping the metrics.
        change_signal = "SIGHUP"
        data          = <<-EOT
          server:
            listen: "0.0.0.0:${var.port}"
            instance: "$${E2BBENCH_INSTANCE}"
            host:
              name: "$${E2BBENCH_HOST_NAME}"
              metadata: { kind: ${var.cloud} }
          # Host probes only: nothing here creates sandboxes.
          enable_all_probes: false
          local_runtime: { enabled: false }
          probes:
            host.info: {}
            host.cpu: {}
            host.memory: {}
            host.disk: { directory: "${var.disk_directory}" }
            host.hugepages: {}
          %{~ if var.target != "" }
          targets:
            - name: ${var.target}
              cloud_provider: ${var.target_cloud_provider}
              e2b: { domain: ${var.target_domain} }
              host: self
          %{~ endif }
        EOT
      }

      resources {
        # A share, not a cap (raw_exec): sysbench uses every CPU of the node while it runs.
        cpu    = 200
        memory = 512
      }
    }
  }
}
