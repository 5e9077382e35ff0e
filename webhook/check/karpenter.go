package check

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/webhook"
)

var (
	nodePoolGK  = schema.GroupKind{Group: rules.KarpenterGroup, Kind: rules.KindNodePool}
	nodeClassGK = schema.GroupKind{Group: rules.KarpenterAWSGroup, Kind: rules.KindEC2NodeClass}
)

// karpenter holds the NodePools and EC2NodeClasses of a check by name: the overlay's, then
// --facts, then the manifests (a later one replaces an earlier of the same name, as an apply
// would). The webhook judges each kind with its counterpart from its cache; check with the
// counterpart among these.
type karpenter struct {
	pools   map[string]rules.NodePoolSpec
	classes map[string]rules.EC2NodeClassSpec
}

func (k *karpenter) add(d doc) {
	switch d.gk {
	case nodePoolGK:
		if s, err := webhook.NodePoolSpecOf(d.raw); err == nil {
			k.pools[s.Name] = s
		}
	case nodeClassGK:
		if s, err := webhook.EC2NodeClassSpecOf(d.raw); err == nil {
			k.classes[s.Name] = s
		}
	}
}

// judge applies the Karpenter rules to d; ok is false for other kinds. An absent counterpart
// is a warning saying what was not checked, never a silent pass.
func (k *karpenter) judge(p model.CapacityPolicy, d doc) (res rules.Result, ok bool, err error) {
	switch d.gk {
	case nodePoolGK:
		pool, err := webhook.NodePoolSpecOf(d.raw)
		if err != nil {
			return rules.Result{}, true, err
		}
		var class *rules.EC2NodeClassSpec
		if c, ok := k.classes[pool.NodeClass]; ok {
			class = &c
		}
		return rules.ValidateNodePool(p, pool, class), true, nil
	case nodeClassGK:
		class, err := webhook.EC2NodeClassSpecOf(d.raw)
		if err != nil {
			return rules.Result{}, true, err
		}
		var pools []rules.NodePoolSpec
		for _, pool := range k.pools {
			if pool.NodeClass == class.Name {
				pools = append(pools, pool)
			}
		}
		if len(pools) == 0 {
			return rules.Result{Warnings: []string{fmt.Sprintf("EC2NodeClass %s: no NodePool among the manifests, --facts or the overlay uses it: kubelet maxPods not checked", class.Name)}}, true, nil
		}
		sort.Slice(pools, func(i, j int) bool { return pools[i].Name < pools[j].Name })
		return rules.ValidateEC2NodeClass(p, class, pools), true, nil
	}
	return rules.Result{}, false, nil
}
