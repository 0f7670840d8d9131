{{/*
Names and labels of this chart's objects.
*/}}
{{- define "sidecar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sidecar.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sidecar.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sidecar.labels" -}}
helm.sh/chart: {{ include "sidecar.chart" . }}
{{ include "sidecar.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
=====================================================================================================
Reusable templates: add Sidecar to any pod.

Each takes a dict:
  values         the sidecar values map (image, config, probes, resources, securityContext, ...;
                 this chart's .Values.sidecar, or .Values.sidecar.sidecar in a parent chart that
                 depends on this one under the name "sidecar")
  context        the root context ($), for names and the default image tag
  configMapName  optional; default "<fullname>-config"

  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ include "sidecar.terminationGracePeriodSeconds" (dict "values" .Values.sidecar "context" $ "explicit" .Values.terminationGracePeriodSeconds) }}
  initContainers:
    {{- include "sidecar.container" (dict "values" .Values.sidecar "context" $) | nindent 4 }}
  volumes:
    {{- include "sidecar.volume" (dict "values" .Values.sidecar "context" $) | nindent 4 }}
  ---
  {{ include "sidecar.configMap" (dict "values" .Values.sidecar "context" $) }}
=====================================================================================================
*/}}

{{- define "sidecar.configMapName" -}}
{{- .configMapName | default (printf "%s-config" (include "sidecar.fullname" .context | trunc 56 | trimSuffix "-")) }}
{{- end }}

{{/*
Ports and addresses come from config.listen alone, so the container ports, probes, annotations,
Service and SIDECAR_PROXY_URL can never disagree with what Sidecar binds. Each takes the dict the
named templates take; a listen address a pod cannot use fails the render with the reason.
*/}}
{{- define "sidecar.listenPort" -}}
{{- $port := regexReplaceAll "^.*:([0-9]+)/?$" .address "${1}" }}
{{- if or (not (regexMatch "^[0-9]+$" $port)) (eq (int $port) 0) }}
{{- fail (printf "sidecar config listen.%s (%s) needs a fixed port, e.g. http://0.0.0.0:9901: the pod's ports, probes and SIDECAR_PROXY_URL are rendered from it" .name .address) }}
{{- end }}
{{- $port }}
{{- end }}

{{- define "sidecar.listenHost" -}}
{{- regexReplaceAll "^[a-zA-Z][a-zA-Z0-9+.-]*://(.*):[0-9]+/?$" . "${1}" }}
{{- end }}

{{/*
The admin port, from listen.admin: /config and the rest, for kubectl port-forward (which connects to the
pod's loopback, so admin may, and by default does, bind 127.0.0.1 only).
*/}}
{{- define "sidecar.adminPort" -}}
{{- include "sidecar.listenPort" (dict "name" "admin" "address" (.values.config.listen.admin | default "")) }}
{{- end }}

{{/*
The metrics port, from listen.metrics: the container port "metrics" that the probes, the Prometheus
annotations, the Service and the ServiceMonitor use. The kubelet and Prometheus connect to the pod IP, so it
must bind every interface; it serves only /metrics, /healthz and /readyz, never /config.
*/}}
{{- define "sidecar.metricsPort" -}}
{{- $metrics := .values.config.listen.metrics | default "" }}
{{- if not $metrics }}
{{- fail "sidecar config listen.metrics is required by the chart: the kubelet's probes and Prometheus use it, while listen.admin (and /config) stays on loopback; use e.g. http://0.0.0.0:9902" }}
{{- end }}
{{- $host := include "sidecar.listenHost" $metrics }}
{{- if not (has $host (list "0.0.0.0" "[::]" "*" "+")) }}
{{- fail (printf "sidecar config listen.metrics (%s) binds %s only: the kubelet's probes and Prometheus reach the pod IP, so it must bind every interface, e.g. http://0.0.0.0:%s" $metrics $host (include "sidecar.listenPort" (dict "name" "metrics" "address" $metrics))) }}
{{- end }}
{{- include "sidecar.listenPort" (dict "name" "metrics" "address" $metrics) }}
{{- end }}

{{/*
The proxy port, from listen.proxy.
*/}}
{{- define "sidecar.proxyPort" -}}
{{- include "sidecar.listenPort" (dict "name" "proxy" "address" (.values.config.listen.proxy | default "")) }}
{{- end }}

{{/*
The URL the application containers call (env SIDECAR_PROXY_URL): the pod's loopback, which listen.proxy
must therefore bind (loopback, the recommended value, or every interface).
*/}}
{{- define "sidecar.proxyUrl" -}}
{{- $proxy := .values.config.listen.proxy | default "" }}
{{- $host := include "sidecar.listenHost" $proxy }}
{{- $port := include "sidecar.proxyPort" . }}
{{- if has $host (list "127.0.0.1" "localhost" "0.0.0.0" "*" "+") }}
{{- printf "http://127.0.0.1:%s" $port }}
{{- else if has $host (list "[::1]" "[::]") }}
{{- printf "http://[::1]:%s" $port }}
{{- else if hasPrefix "127." $host }}
{{- printf "http://%s:%s" $host $port }}
{{- else }}
{{- fail (printf "sidecar config listen.proxy (%s) binds %s: the application reaches Sidecar on the pod's loopback, so it must be a loopback address (e.g. http://127.0.0.1:%s) or every interface" $proxy $host $port) }}
{{- end }}
{{- end }}

{{/*
A duration as Sidecar writes it (250ms, 2s, 1.5m, 1h) in milliseconds, or "" when it is not one
(Sidecar's own validation reports that).
*/}}
{{- define "sidecar.durationMs" -}}
{{- $text := toString . }}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$" $text }}
{{- $unit := regexFind "(ms|s|m|h)$" $text }}
{{- $number := float64 (trimSuffix $unit $text) }}
{{- mulf $number (get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit) }}
{{- end }}
{{- end }}

{{/*
A size as Sidecar writes it (512B, 64KiB, 1.5MiB, 1GiB) in bytes, or "" when it is not one.
*/}}
{{- define "sidecar.sizeBytes" -}}
{{- $text := toString . }}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?(B|KiB|MiB|GiB)$" $text }}
{{- $unit := regexFind "(B|KiB|MiB|GiB)$" $text }}
{{- $number := float64 (trimSuffix $unit $text) }}
{{- mulf $number (get (dict "B" 1 "KiB" 1024 "MiB" 1048576 "GiB" 1073741824) $unit) }}
{{- end }}
{{- end }}

{{/*
Sidecar's longest drain in whole seconds: limits.drain_delay + limits.drain_timeout, rounded up. A key the
config leaves out has Sidecar's default (ConfigDefaults: drain_delay 5s, drain_timeout 25s; a test keeps
these two in step with it).
*/}}
{{- define "sidecar.drainSeconds" -}}
{{- $limits := .values.config.limits | default dict }}
{{- $delay := include "sidecar.durationMs" ($limits.drain_delay | default "5s") | default "0" }}
{{- $timeout := include "sidecar.durationMs" ($limits.drain_timeout | default "25s") | default "0" }}
{{- divf (addf $delay $timeout) 1000 | ceil | int }}
{{- end }}

{{/*
The pod's terminationGracePeriodSeconds. As a native sidecar, Sidecar gets SIGTERM only once the application
containers have exited, and the kubelet's SIGKILL ends both at the end of the one grace period. Unset
("explicit" empty): Sidecar's drain plus 5s for the application's own shutdown. Set: it must cover Sidecar's
drain, or the render fails.
*/}}
{{- define "sidecar.terminationGracePeriodSeconds" -}}
{{- $drain := include "sidecar.drainSeconds" . | int }}
{{- if kindIs "invalid" .explicit }}
{{- add $drain 5 }}
{{- else if lt (int .explicit) $drain }}
{{- $limits := .values.config.limits | default dict }}
{{- fail (printf "terminationGracePeriodSeconds (%d) is shorter than Sidecar's drain, limits.drain_delay (%v) + limits.drain_timeout (%v) = %ds: the kubelet would kill Sidecar with requests in flight. Raise it to at least %d (plus your application's shutdown time), lower limits.drain_timeout, or leave it empty to derive it" (int .explicit) ($limits.drain_delay | default "5s") ($limits.drain_timeout | default "25s") $drain $drain) }}
{{- else }}
{{- int .explicit }}
{{- end }}
{{- end }}

{{/*
The rules of Sidecar's config that tie two keys together. Helm deep-merges values files (-f base.yaml
-f prod.yaml, --set), so overriding one key keeps the other from an earlier file (--set
...default.timeout=1s keeps per_try_timeout: 2s): a pair that Sidecar would reject at start fails the
render here instead, with both keys named. Keys, types and value shapes are checked by values.schema.json
(the output of `sidecar schema`); Sidecar validates everything else itself at start and on reload
(tests/Sidecar.Tests/Packaging/HelmRenderTests.cs runs sidecar validate on rendered configs).
*/}}
{{- define "sidecar.checkConfig" -}}
{{- $config := .values.config }}
{{- if or (not $config.clusters) (not $config.routes) }}
{{- fail "sidecar config needs clusters and routes: the upstreams your application calls through Sidecar and the routes to them. The chart ships none (a default would loop the application's calls back into itself, and Helm would merge it into yours). See the commented example in values.yaml or ci/outbound-values.yaml" }}
{{- end }}
{{- $maxBuffered := "" }}
{{- with $config.limits }}{{ with .max_buffered_bytes }}{{ $maxBuffered = include "sidecar.sizeBytes" . }}{{ end }}{{ end }}
{{- range $name, $policy := $config.policies }}
{{- if kindIs "map" $policy }}
{{- $perTry := include "sidecar.durationMs" ($policy.per_try_timeout | default "") }}
{{- $timeout := include "sidecar.durationMs" ($policy.timeout | default "") }}
{{- if and $perTry $timeout (gt (float64 $perTry) (float64 $timeout)) }}
{{- fail (printf "sidecar config policies.%s: per_try_timeout (%v) must not exceed timeout (%v). Values files are deep-merged: set both" $name $policy.per_try_timeout $policy.timeout) }}
{{- end }}
{{- with $policy.backoff }}
{{- $base := include "sidecar.durationMs" (.base | default "") }}
{{- $max := include "sidecar.durationMs" (.max | default "") }}
{{- if and $base $max (lt (float64 $max) (float64 $base)) }}
{{- fail (printf "sidecar config policies.%s.backoff: max (%v) must be at least base (%v). Values files are deep-merged: set both" $name .max .base) }}
{{- end }}
{{- end }}
{{- $buffer := include "sidecar.sizeBytes" ($policy.buffer_limit | default "") }}
{{- if and $buffer $maxBuffered (gt (float64 $buffer) (float64 $maxBuffered)) }}
{{- fail (printf "sidecar config policies.%s: buffer_limit (%v) must not exceed limits.max_buffered_bytes (%v). Values files are deep-merged: lower buffer_limit too" $name $policy.buffer_limit $config.limits.max_buffered_bytes) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Sidecar as a Kubernetes native sidecar: an entry of initContainers with restartPolicy: Always
(Kubernetes >= 1.29). It starts before the app containers, keeps running beside them, and stops
after them, so the application's outbound calls have a proxy for the pod's whole life.
*/}}
{{- define "sidecar.container" -}}
{{- $v := .values }}
{{- $ctx := .context }}
{{- $adminPort := include "sidecar.adminPort" . }}
{{- $metricsPort := include "sidecar.metricsPort" . -}}
- name: sidecar
  image: "{{ $v.image.repository }}:{{ $v.image.tag | default $ctx.Chart.AppVersion }}"
  imagePullPolicy: {{ $v.image.pullPolicy | default "IfNotPresent" }}
  restartPolicy: Always
  args:
    - run
    {{- with $v.extraArgs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  env:
    - name: SIDECAR_CONFIG
      value: /etc/sidecar/sidecar.yaml
    - name: SIDECAR_ADMIN_PORT
      value: {{ $adminPort | quote }}
    {{- with $v.logLevel }}
    - name: SIDECAR_LOG_LEVEL
      value: {{ . | quote }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: sidecar-proxy
      containerPort: {{ include "sidecar.proxyPort" . }}
      protocol: TCP
    # Admin (/config) listens on loopback: no container port. The probes and Prometheus use this one.
    - name: metrics
      containerPort: {{ $metricsPort }}
      protocol: TCP
  {{- with $v.probes }}
  {{- with .startup }}
  startupProbe:
    httpGet:
      path: {{ .path }}
      port: metrics
    {{- with omit . "path" }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with .liveness }}
  livenessProbe:
    httpGet:
      path: {{ .path }}
      port: metrics
    {{- with omit . "path" }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with .readiness }}
  readinessProbe:
    httpGet:
      path: {{ .path }}
      port: metrics
    {{- with omit . "path" }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    # The whole ConfigMap as a directory, never subPath: kubelet updates a ConfigMap volume by
    # swapping its ..data symlink, which a subPath mount never sees. Sidecar watches the file
    # through that swap and hot-reloads it.
    - name: sidecar-config
      mountPath: /etc/sidecar
      readOnly: true
    # readOnlyRootFilesystem: .NET still wants a writable temp directory.
    - name: sidecar-tmp
      mountPath: /tmp
    {{- with $v.tls }}{{ if .secretName }}
    # cert-manager's Secret (tls.crt, tls.key, ca.crt) as a directory: renewals arrive by a ..data swap.
    - name: sidecar-tls
      mountPath: {{ .mountPath | default "/etc/sidecar-tls" }}
      readOnly: true
    {{- end }}{{ end }}
{{- end }}

{{/*
The volumes sidecar.container mounts: its ConfigMap, a small emptyDir for /tmp and, with tls.secretName, the TLS Secret.
*/}}
{{- define "sidecar.volume" -}}
- name: sidecar-config
  configMap:
    name: {{ include "sidecar.configMapName" . }}
- name: sidecar-tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- with .values.tls }}{{ if .secretName }}
- name: sidecar-tls
  secret:
    secretName: {{ .secretName }}
{{- end }}{{ end }}
{{- end }}

{{/*
The ConfigMap holding sidecar.yaml, rendered from the values' config map.
*/}}
{{- define "sidecar.configMap" -}}
{{- include "sidecar.checkConfig" . }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "sidecar.configMapName" . }}
  labels:
    {{- include "sidecar.labels" .context | nindent 4 }}
data:
  sidecar.yaml: |
    {{- toYaml .values.config | nindent 4 }}
{{- end }}

{{/*
prometheus.io/* annotations for a pod running sidecar.container.
*/}}
{{- define "sidecar.podAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ include "sidecar.metricsPort" . | quote }}
prometheus.io/path: /metrics
{{- end }}
