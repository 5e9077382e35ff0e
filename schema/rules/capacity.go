package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
)

// InstanceTypeLabel is the well-known Node label with the EC2 instance type.
const InstanceTypeLabel = "node.kubernetes.io/instance-type"

// NormalizeInstanceType is the one form instance types are judged in, from a label or a spec
// field: trimmed and lower case (EC2 names are lower case; the capacity table is keyed so).
func NormalizeInstanceType(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NodePods is what a Node promises: its normalised instance type and the pod counts in
// status.capacity.pods and status.allocatable.pods (nil when absent). The counts stay
// Quantities: a Node may claim any quantity (2^64+110, 1e1000000), and converting one to an
// int wraps; they are only ever compared (Quantity.CmpInt64).
type NodePods struct {
	Name         string
	InstanceType string
	Capacity     *resource.Quantity
	Allocatable  *resource.Quantity
}

// NodePodsOf reads the capacity inputs of a Node, normalised.
func NodePodsOf(n *corev1.Node) NodePods {
	in := NodePods{Name: n.Name, InstanceType: NormalizeInstanceType(n.Labels[InstanceTypeLabel])}
	if q, ok := n.Status.Capacity[corev1.ResourcePods]; ok {
		in.Capacity = &q
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		in.Allocatable = &q
	}
	return in
}

func positive(q *resource.Quantity) bool { return q != nil && q.Sign() > 0 }

// ValidateNodePods checks a Node's pod capacity against the ENI/IP bound of its instance type
// under policy p. Violations deny, or only warn when p.Enforcement is "warn". A node without an
// instance-type label, or with a type the table does not know, gets a warning: new types must
// not stop nodes joining.
func ValidateNodePods(p model.CapacityPolicy, n NodePods) Result {
	var res Result
	if n.InstanceType == "" {
		if positive(n.Capacity) || positive(n.Allocatable) {
			res.warn("node %s has no %s label: pod capacity not checked against ENI limits", n.Name, InstanceTypeLabel)
		}
		return res
	}
	bound, err := capacity.BoundFor(n.InstanceType, p)
	if err != nil {
		res.warn("node %s: pod capacity not checked: %v", n.Name, err)
		return res
	}
	status := field.NewPath("status")
	for _, c := range []struct {
		pods *resource.Quantity
		path *field.Path
	}{{n.Capacity, status.Child("capacity").Key("pods")}, {n.Allocatable, status.Child("allocatable").Key("pods")}} {
		if c.pods != nil && c.pods.CmpInt64(int64(bound.MaxPods)) > 0 {
			capacityViolation(p, &res, field.Invalid(c.path, c.pods.String(),
				fmt.Sprintf("max pods %s on %s exceeds the bound: %s", c.pods, bound.InstanceType, bound.BoundExplanation())))
		}
	}
	return res
}

// CiliumNodeIPAM is what a CiliumNode asks of ENI IPAM: spec.ipam pre-allocate, min-allocate
// and max-allocate, with the instance type from spec.eni (what Cilium's operator sizes ENIs
// by) and from the node label, and the first interface index from spec.eni (or the policy
// when absent). Build it with CiliumNodeIPAMOf.
type CiliumNodeIPAM struct {
	Name string
	// InstanceType is spec.eni.instance-type, LabelInstanceType the InstanceTypeLabel, both
	// normalised.
	InstanceType        string
	LabelInstanceType   string
	FirstInterfaceIndex *int
	PreAllocate         int
	MinAllocate         int
	MaxAllocate         int
}

// CiliumNodeIPAMOf reads the capacity inputs of a CiliumNode (raw JSON; Cilium's Go types are
// not linked), normalised. Numbers that do not fit an int are a decoding error.
func CiliumNodeIPAMOf(raw []byte) (CiliumNodeIPAM, error) {
	var cn struct {
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			ENI struct {
				InstanceType        string `json:"instance-type"`
				FirstInterfaceIndex *int   `json:"first-interface-index"`
			} `json:"eni"`
			IPAM struct {
				PreAllocate int `json:"pre-allocate"`
				MinAllocate int `json:"min-allocate"`
				MaxAllocate int `json:"max-allocate"`
			} `json:"ipam"`
		} `json:"spec"`
	}
	if len(raw) == 0 {
		return CiliumNodeIPAM{}, errors.New("CiliumNode: no object")
	}
	if err := json.Unmarshal(raw, &cn); err != nil {
		return CiliumNodeIPAM{}, fmt.Errorf("decode CiliumNode: %w", err)
	}
	return CiliumNodeIPAM{
		Name: cn.Metadata.Name, InstanceType: NormalizeInstanceType(cn.Spec.ENI.InstanceType),
		LabelInstanceType: NormalizeInstanceType(cn.Metadata.Labels[InstanceTypeLabel]), FirstInterfaceIndex: cn.Spec.ENI.FirstInterfaceIndex,
		PreAllocate: cn.Spec.IPAM.PreAllocate, MinAllocate: cn.Spec.IPAM.MinAllocate, MaxAllocate: cn.Spec.IPAM.MaxAllocate,
	}, nil
}

// ValidateCiliumNode checks that the addresses a CiliumNode asks Cilium to allocate fit in
// what its ENIs can hold (pod addresses of the ENI model), per field. Every known type it names
// (spec.eni.instance-type and the label) is judged and the smallest bound wins, so neither an
// unknown spec type nor a relabel hides a known one.
func ValidateCiliumNode(p model.CapacityPolicy, n CiliumNodeIPAM) Result {
	var res Result
	types := []string{n.InstanceType}
	if n.LabelInstanceType != n.InstanceType {
		types = append(types, n.LabelInstanceType)
	}
	var bound *capacity.Result
	named := false
	for _, t := range types {
		if t == "" {
			continue
		}
		named = true
		in := capacity.InputForPolicy(t, p)
		if n.FirstInterfaceIndex != nil {
			in.FirstInterfaceIndex = *n.FirstInterfaceIndex
		}
		r, err := capacity.Compute(in)
		if err != nil {
			var unknown *capacity.UnknownTypeError
			if errors.As(err, &unknown) {
				res.warn("CiliumNode %s: instance type %q not checked: %v", n.Name, t, err)
				continue
			}
			capacityViolation(p, &res, field.Invalid(field.NewPath("spec", "eni"), t, err.Error()))
			return res
		}
		if bound == nil || r.PodAddresses < bound.PodAddresses {
			bound = &r
		}
	}
	if !named {
		if n.PreAllocate > 0 || n.MinAllocate > 0 || n.MaxAllocate > 0 {
			res.warn("CiliumNode %s names no instance type (spec.eni.instance-type or %s): IPAM sizes not checked", n.Name, InstanceTypeLabel)
		}
		return res
	}
	if n.InstanceType != "" && n.LabelInstanceType != "" && n.InstanceType != n.LabelInstanceType {
		res.warn("CiliumNode %s: spec.eni.instance-type %q differs from label %s=%q (judged against the smaller known bound)",
			n.Name, n.InstanceType, InstanceTypeLabel, n.LabelInstanceType)
	}
	if bound == nil {
		return res
	}
	r := *bound
	ipam := field.NewPath("spec", "ipam")
	for _, c := range []struct {
		key string
		v   int
	}{{"pre-allocate", n.PreAllocate}, {"min-allocate", n.MinAllocate}, {"max-allocate", n.MaxAllocate}} {
		if c.v > r.PodAddresses {
			capacityViolation(p, &res, field.Invalid(ipam.Child(c.key), c.v,
				fmt.Sprintf("%s %d on %s exceeds the %d addresses its ENIs hold for pods: %s = %d with %s",
					c.key, c.v, r.InstanceType, r.PodAddresses, podAddressFormula(r), r.PodAddresses, r.Inputs())))
		}
	}
	return res
}

func podAddressFormula(r capacity.Result) string {
	if r.PrefixDelegation {
		return "(E-F)*(I-1)*16"
	}
	return "(E-F)*(I-1)"
}

// capacityViolation denies e, or records it as a warning under warn enforcement.
func capacityViolation(p model.CapacityPolicy, res *Result, e *field.Error) {
	if p.Enforcement == EnforcementWarn {
		res.warn("%s (enforcement: warn)", e.Error())
		return
	}
	res.deny(RuleCapacity, e)
}
