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
  values         the sidecar values map (image, config, ports, probes, resources, securityContext, ...;
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
The admin port: from the values' ports.admin, which must be the port of config.listen.admin
(probes and scraping target it).
*/}}
{{- define "sidecar.adminPort" -}}
{{- $admin := .values.config.listen.admin | default "http://127.0.0.1:9901" }}
{{- $fromConfig := regexFind "[0-9]+$" (trimSuffix "/" $admin) }}
{{- if and $fromConfig (ne (toString $fromConfig) (toString .values.ports.admin)) }}
{{- fail (printf "sidecar.ports.admin (%v) must match the port of sidecar.config.listen.admin (%s)" .values.ports.admin $admin) }}
{{- end }}
{{- .values.ports.admin }}
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
      containerPort: {{ $v.ports.proxy }}
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
