package capacity

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

// InputFor is the capacity input of a node group in an environment.
func InputFor(env model.Environment, ng model.NodeGroup) Input {
	return Input{
		InstanceType:        ng.InstanceType,
		PrefixDelegation:    env.Cilium.PrefixDelegation,
		FirstInterfaceIndex: env.Cilium.FirstInterfaceIndex,
		HostNetworkPods:     env.Cilium.HostNetworkPods,
		DeclaredMaxPods:     ng.MaxPodsPerNode,
	}
}

// InputForPolicy is the capacity input for an instance type under the webhook's policy.
func InputForPolicy(instanceType string, p model.CapacityPolicy) Input {
	return Input{
		InstanceType:        instanceType,
		PrefixDelegation:    p.PrefixDelegation,
		FirstInterfaceIndex: p.FirstInterfaceIndex,
		HostNetworkPods:     p.HostNetworkPods,
	}
}

// BoundFor is the max-pods bound (Result.MaxPods, with every figure) for an instance type under
// the webhook's capacity policy.
func BoundFor(instanceType string, p model.CapacityPolicy) (Result, error) {
	return Compute(InputForPolicy(instanceType, p))
}

// ValidatePods checks a pod count a Node (status.capacity.pods / allocatable.pods), CiliumNode
// or quota promises for instanceType against the bound under policy p. path points at the
// offending field.
func ValidatePods(instanceType string, p model.CapacityPolicy, pods int, path *field.Path) field.ErrorList {
	r, err := BoundFor(instanceType, p)
	if err != nil {
		return field.ErrorList{field.Invalid(path, pods, err.Error())}
	}
	if pods > r.MaxPods {
		return field.ErrorList{field.Invalid(path, pods, r.ExceedsMessage(pods))}
	}
	return nil
}

// ValidateNodeGroups checks every node group of env: known instance type, prefix delegation
// only on nitro/bare metal, first interface index in range, and a declared maxPodsPerNode
// within the bound. path is the environment's root (nil at top level); errors point at
// nodeGroups[<name>].instanceType or .maxPodsPerNode.
func ValidateNodeGroups(env model.Environment, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, ng := range env.NodeGroups {
		p := path.Child("nodeGroups").Key(ng.Name)
		in := InputFor(env, ng)
		if ng.MaxPodsPerNode < 0 {
			errs = append(errs, field.Invalid(p.Child("maxPodsPerNode"), ng.MaxPodsPerNode, "must be 0 (derive from the capacity model) or positive"))
			in.DeclaredMaxPods = 0
		}
		r, err := Compute(in)
		if err != nil {
			errs = append(errs, field.Invalid(p.Child("instanceType"), ng.InstanceType, groupError(env, err)))
			continue
		}
		if r.DeclaredExceeds {
			errs = append(errs, field.Invalid(p.Child("maxPodsPerNode"), ng.MaxPodsPerNode, r.ExceedsMessage(ng.MaxPodsPerNode)))
		}
	}
	return errs
}

// groupError words a Compute error for a node group, naming the environment settings involved.
func groupError(env model.Environment, err error) string {
	var unknown *UnknownTypeError
	if errors.As(err, &unknown) {
		return err.Error()
	}
	msg := err.Error()
	var settings []string
	if env.Cilium.PrefixDelegation && strings.Contains(msg, "prefix delegation") {
		settings = append(settings, "cilium.prefixDelegation is true")
	}
	if strings.Contains(msg, "first interface index") {
		settings = append(settings, fmt.Sprintf("cilium.firstInterfaceIndex is %d", env.Cilium.FirstInterfaceIndex))
	}
	if len(settings) > 0 {
		msg += " (" + strings.Join(settings, ", ") + ")"
	}
	return msg
}

// MaxPodsFor is the max-pods value to render for a node group: the bound when MaxPodsPerNode
// is 0, else the declared value when it is within the bound.
func MaxPodsFor(env model.Environment, ng model.NodeGroup) (int, error) {
	r, err := Compute(InputFor(env, ng))
	if err != nil {
		return 0, fmt.Errorf("node group %s: %s", ng.Name, groupError(env, err))
	}
	if ng.MaxPodsPerNode > 0 {
		if r.DeclaredExceeds {
			return 0, fmt.Errorf("node group %s: %s", ng.Name, r.ExceedsMessage(ng.MaxPodsPerNode))
		}
		return ng.MaxPodsPerNode, nil
	}
	return r.MaxPods, nil
}
