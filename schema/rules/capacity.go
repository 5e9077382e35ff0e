package rules

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
)

// InstanceTypeLabel is the well-known Node label with the EC2 instance type.
const InstanceTypeLabel = "node.kubernetes.io/instance-type"

// NodePods is what a Node promises: its instance type and the pod counts in
// status.capacity.pods and status.allocatable.pods (0 when absent).
type NodePods struct {
	Name         string
	InstanceType string
	Capacity     int
	Allocatable  int
}

// ValidateNodePods checks a Node's pod capacity against the ENI/IP bound of its instance type
// under policy p. Violations deny, or only warn when p.Enforcement is "warn". A node without an
// instance-type label, or with a type the table does not know, gets a warning: new types must
// not stop nodes joining.
func ValidateNodePods(p model.CapacityPolicy, n NodePods) Result {
	var res Result
	if n.InstanceType == "" {
		if n.Capacity > 0 || n.Allocatable > 0 {
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
		pods int
		path *field.Path
	}{{n.Capacity, status.Child("capacity").Key("pods")}, {n.Allocatable, status.Child("allocatable").Key("pods")}} {
		if c.pods > bound.MaxPods {
			capacityViolation(p, &res, field.Invalid(c.path, c.pods, bound.ExceedsMessage(c.pods)))
		}
	}
	return res
}

// CiliumNodeIPAM is what a CiliumNode asks of ENI IPAM: spec.ipam pre-allocate, min-allocate
// and max-allocate, with the instance type and first interface index from spec.eni (or the
// node label and the policy when absent).
type CiliumNodeIPAM struct {
	Name                string
	InstanceType        string
	FirstInterfaceIndex *int
	PreAllocate         int
	MinAllocate         int
	MaxAllocate         int
}

// ValidateCiliumNode checks that the addresses a CiliumNode asks Cilium to allocate fit in
// what its ENIs can hold (pod addresses of the ENI model), per field.
func ValidateCiliumNode(p model.CapacityPolicy, n CiliumNodeIPAM) Result {
	var res Result
	if n.InstanceType == "" {
		if n.PreAllocate > 0 || n.MinAllocate > 0 || n.MaxAllocate > 0 {
			res.warn("CiliumNode %s names no instance type (spec.eni.instance-type or %s): IPAM sizes not checked", n.Name, InstanceTypeLabel)
		}
		return res
	}
	in := capacity.InputForPolicy(n.InstanceType, p)
	if n.FirstInterfaceIndex != nil {
		in.FirstInterfaceIndex = *n.FirstInterfaceIndex
	}
	r, err := capacity.Compute(in)
	if err != nil {
		var unknown *capacity.UnknownTypeError
		if errors.As(err, &unknown) {
			res.warn("CiliumNode %s: IPAM sizes not checked: %v", n.Name, err)
			return res
		}
		capacityViolation(p, &res, field.Invalid(field.NewPath("spec", "eni"), n.InstanceType, err.Error()))
		return res
	}
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
