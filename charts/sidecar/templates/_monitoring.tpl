{{/*
The rule groups of files/sidecar-rules.yaml, the one home of Sidecar's recording and alert rules, for
the PrometheusRule. Two values change them on the way, and only when set:
  monitoring.prometheusRule.thresholds  NAME: number replaces the expr of the record sidecar:NAME:* of
                                         the group sidecar-thresholds with vector(number); an unknown NAME
                                         fails the render with the names there are
  monitoring.prometheusRule.runbookUrl   the README's address: runbook_url README.md#x becomes <url>#x
*/}}
{{- define "sidecar.ruleGroups" -}}
{{- $settings := .Values.monitoring.prometheusRule }}
{{- $thresholds := $settings.thresholds | default dict }}
{{- $file := .Files.Get "files/sidecar-rules.yaml" | fromYaml }}
{{- $known := list }}
{{- range $group := $file.groups }}
{{- range $rule := $group.rules }}
{{- if and (eq $group.name "sidecar-thresholds") $rule.record }}
{{- $name := index (splitList ":" $rule.record) 1 }}
{{- $known = append $known $name }}
{{- if hasKey $thresholds $name }}
{{- $_ := set $rule "expr" (printf "vector(%v)" (index $thresholds $name)) }}
{{- end }}
{{- end }}
{{- if and $settings.runbookUrl $rule.annotations }}
{{- with $rule.annotations.runbook_url }}
{{- $_ := set $rule.annotations "runbook_url" (printf "%s%s" $settings.runbookUrl (trimPrefix "README.md" .)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $name, $value := $thresholds }}
{{- if not (has $name $known) }}
{{- fail (printf "monitoring.prometheusRule.thresholds.%s: no such threshold in files/sidecar-rules.yaml; there are %s" $name (join ", " $known)) }}
{{- end }}
{{- end }}
{{- toYaml $file.groups }}
{{- end }}
