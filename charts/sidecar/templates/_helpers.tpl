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
  configMapName  optional; default "<fullname>-sidecar-config"

  initContainers:
    {{- include "sidecar.container" (dict "values" .Values.sidecar "context" $) | nindent 4 }}
  volumes:
    {{- include "sidecar.volume" (dict "values" .Values.sidecar "context" $) | nindent 4 }}
  ---
  {{ include "sidecar.configMap" (dict "values" .Values.sidecar "context" $) }}
=====================================================================================================
*/}}

{{- define "sidecar.configMapName" -}}
{{- .configMapName | default (printf "%s-sidecar-config" (include "sidecar.fullname" .context)) | trunc 63 | trimSuffix "-" }}
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
The admin port. The kubelet's probes and Prometheus connect to the pod IP, so listen.admin must bind
every interface: a loopback (or any single) address renders probes that can never succeed.
*/}}
{{- define "sidecar.adminPort" -}}
{{- $admin := .values.config.listen.admin | default "" }}
{{- if not $admin }}
{{- fail "sidecar config listen.admin is required: Sidecar's default (127.0.0.1:9901) is loopback, which the kubelet's probes cannot reach; use e.g. http://0.0.0.0:9901" }}
{{- end }}
{{- $host := include "sidecar.listenHost" $admin }}
{{- if not (has $host (list "0.0.0.0" "[::]" "*" "+")) }}
{{- fail (printf "sidecar config listen.admin (%s) binds %s only: the kubelet's probes and Prometheus reach the pod IP, so it must bind every interface, e.g. http://0.0.0.0:%s" $admin $host (include "sidecar.listenPort" (dict "name" "admin" "address" $admin))) }}
{{- end }}
{{- include "sidecar.listenPort" (dict "name" "admin" "address" $admin) }}
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
The rules of Sidecar's config that tie two keys together. Helm deep-merges values with the chart's
defaults, so overriding one key keeps the default of the other (--set ...default.timeout=1s keeps
per_try_timeout: 2s): a pair that Sidecar would reject at start fails the render here instead, with
both keys named. Sidecar validates everything else itself (tests/packaging renders the chart and
runs sidecar validate on the result).
*/}}
{{- define "sidecar.checkConfig" -}}
{{- $config := .values.config }}
{{- $maxBuffered := "" }}
{{- with $config.limits }}{{ with .max_buffered_bytes }}{{ $maxBuffered = include "sidecar.sizeBytes" . }}{{ end }}{{ end }}
{{- range $name, $policy := $config.policies }}
{{- if kindIs "map" $policy }}
{{- $perTry := include "sidecar.durationMs" ($policy.per_try_timeout | default "") }}
{{- $timeout := include "sidecar.durationMs" ($policy.timeout | default "") }}
{{- if and $perTry $timeout (gt (float64 $perTry) (float64 $timeout)) }}
{{- fail (printf "sidecar config policies.%s: per_try_timeout (%v) must not exceed timeout (%v). Values are deep-merged with the chart's defaults: set both, or set per_try_timeout to null to drop it" $name $policy.per_try_timeout $policy.timeout) }}
{{- end }}
{{- with $policy.backoff }}
{{- $base := include "sidecar.durationMs" (.base | default "") }}
{{- $max := include "sidecar.durationMs" (.max | default "") }}
{{- if and $base $max (lt (float64 $max) (float64 $base)) }}
{{- fail (printf "sidecar config policies.%s.backoff: max (%v) must be at least base (%v). Values are deep-merged with the chart's defaults: set both" $name .max .base) }}
{{- end }}
{{- end }}
{{- $buffer := include "sidecar.sizeBytes" ($policy.buffer_limit | default "") }}
{{- if and $buffer $maxBuffered (gt (float64 $buffer) (float64 $maxBuffered)) }}
{{- fail (printf "sidecar config policies.%s: buffer_limit (%v) must not exceed limits.max_buffered_bytes (%v). Values are deep-merged with the chart's defaults: lower buffer_limit too" $name $policy.buffer_limit $config.limits.max_buffered_bytes) }}
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
{{- $adminPort := include "sidecar.adminPort" . -}}
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
    - name: sidecar-admin
      containerPort: {{ $adminPort }}
      protocol: TCP
  {{- with $v.probes }}
  {{- with .startup }}
  startupProbe:
    httpGet:
      path: {{ .path }}
      port: sidecar-admin
    {{- with omit . "path" }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with .liveness }}
  livenessProbe:
    httpGet:
      path: {{ .path }}
      port: sidecar-admin
    {{- with omit . "path" }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with .readiness }}
  readinessProbe:
    httpGet:
      path: {{ .path }}
      port: sidecar-admin
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
{{- end }}

{{/*
The volumes sidecar.container mounts: its ConfigMap and a small emptyDir for /tmp.
*/}}
{{- define "sidecar.volume" -}}
- name: sidecar-config
  configMap:
    name: {{ include "sidecar.configMapName" . }}
- name: sidecar-tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
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
prometheus.io/port: {{ include "sidecar.adminPort" . | quote }}
prometheus.io/path: /metrics
{{- end }}
