package eksdata

import (
	"slices"
	"time"
)

// KubernetesVersion is one Kubernetes minor on EKS and its support dates.
type KubernetesVersion struct {
	Minor string
	// Released is the date EKS made it available.
	Released time.Time
	// EndOfStandard: standard support ends (14 months after release); extended support, at
	// extra cost per cluster hour, runs from then until EndOfExtended (12 months more), when
	// EKS upgrades the cluster itself.
	EndOfStandard time.Time
	EndOfExtended time.Time
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// KubernetesVersionsSource is where KubernetesVersions comes from.
const KubernetesVersionsSource = `AWS docs, Amazon EKS user guide, "Understand the Kubernetes version lifecycle on EKS" ` +
	`(docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), section "Amazon EKS Kubernetes release calendar", checked 2026-11; ` +
	`the 1.36 row as endoflife-date/endoflife.date products/amazon-eks.md (commit a70eca33, 2026-08-22) copies it from that table`

// KubernetesVersions is the EKS release calendar, oldest first. Minors past the end of
// extended support are kept so messages can say when it ended.
var KubernetesVersions = []KubernetesVersion{
	{"1.29", day(2024, 1, 23), day(2025, 3, 23), day(2026, 3, 23)},
	{"1.30", day(2024, 5, 23), day(2025, 7, 23), day(2026, 7, 23)},
	{"1.31", day(2024, 9, 26), day(2025, 11, 26), day(2026, 11, 26)},
	{"1.32", day(2025, 1, 23), day(2026, 3, 23), day(2027, 3, 23)},
	{"1.33", day(2025, 5, 29), day(2026, 7, 29), day(2027, 7, 29)},
	{"1.34", day(2025, 10, 2), day(2026, 12, 2), day(2027, 12, 2)},
	{"1.35", day(2026, 1, 27), day(2027, 3, 27), day(2028, 3, 27)},
	{"1.36", day(2026, 6, 2), day(2027, 8, 2), day(2028, 8, 2)},
}

// LookupKubernetes returns a minor's calendar row.
func LookupKubernetes(minor string) (KubernetesVersion, bool) {
	i := slices.IndexFunc(KubernetesVersions, func(v KubernetesVersion) bool { return v.Minor == minor })
	if i < 0 {
		return KubernetesVersion{}, false
	}
	return KubernetesVersions[i], true
}

// OfferedKubernetes lists the minors a new cluster can use on day: released, and not past the
// end of extended support.
func OfferedKubernetes(day time.Time) []string {
	var out []string
	for _, v := range KubernetesVersions {
		if !day.Before(v.Released) && day.Before(v.EndOfExtended) {
			out = append(out, v.Minor)
		}
	}
	return out
}
