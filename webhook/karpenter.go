package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
)

// karpenterNodePool is the part of a karpenter.sh/v1 NodePool the rules read.
type karpenterNodePool struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				NodeClassRef struct {
					Name string `json:"name"`
				} `json:"nodeClassRef"`
				Requirements  []rules.NodeRequirement `json:"requirements"`
				StartupTaints []model.Taint           `json:"startupTaints"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func (n karpenterNodePool) spec() rules.NodePoolSpec {
	s := n.Spec.Template.Spec
	return rules.NodePoolSpec{Name: n.Metadata.Name, NodeClass: s.NodeClassRef.Name, Requirements: s.Requirements, StartupTaints: s.StartupTaints}
}

// karpenterNodeClass is the part of a karpenter.k8s.aws/v1 EC2NodeClass the rules read.
type karpenterNodeClass struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Kubelet struct {
			MaxPods *int `json:"maxPods"`
		} `json:"kubelet"`
	} `json:"spec"`
}

func (c karpenterNodeClass) spec() rules.EC2NodeClassSpec {
	return rules.EC2NodeClassSpec{Name: c.Metadata.Name, MaxPods: c.Spec.Kubelet.MaxPods}
}

// NodePoolSpecOf decodes a karpenter.sh/v1 NodePool (JSON) into what the rules read of it.
func NodePoolSpecOf(raw []byte) (rules.NodePoolSpec, error) {
	var np karpenterNodePool
	if err := json.Unmarshal(raw, &np); err != nil {
		return rules.NodePoolSpec{}, fmt.Errorf("decode %s: %w", rules.KindNodePool, err)
	}
	return np.spec(), nil
}

// EC2NodeClassSpecOf decodes a karpenter.k8s.aws/v1 EC2NodeClass (JSON) into what the rules
// read of it.
func EC2NodeClassSpecOf(raw []byte) (rules.EC2NodeClassSpec, error) {
	var c karpenterNodeClass
	if err := json.Unmarshal(raw, &c); err != nil {
		return rules.EC2NodeClassSpec{}, fmt.Errorf("decode %s: %w", rules.KindEC2NodeClass, err)
	}
	return c.spec(), nil
}

var (
	nodePoolGVK  = schema.GroupVersionKind{Group: rules.KarpenterGroup, Version: "v1", Kind: rules.KindNodePool}
	nodeClassGVK = schema.GroupVersionKind{Group: rules.KarpenterAWSGroup, Version: "v1", Kind: rules.KindEC2NodeClass}
)

func decodeRaw(req admission.Request, into any) error {
	if len(req.Object.Raw) == 0 {
		return fmt.Errorf("admission request for %s has no object", req.Kind.Kind)
	}
	if err := json.Unmarshal(req.Object.Raw, into); err != nil {
		return fmt.Errorf("decode %s: %w", req.Kind.Kind, err)
	}
	return nil
}

// fromUnstructured converts a cached object into one of the structs above.
func fromUnstructured(u *unstructured.Unstructured, into any) error {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// nodePool judges a NodePool write, with its EC2NodeClass from the cache when there is one.
func (h *Handler) nodePool(ctx context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	var np karpenterNodePool
	if err := decodeRaw(req, &np); err != nil {
		return rules.Result{}, err
	}
	var class *rules.EC2NodeClassSpec
	if h.opts.Cluster.Known() && np.Spec.Template.Spec.NodeClassRef.Name != "" {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(nodeClassGVK)
		if err := h.opts.Cluster.Reader.Get(ctx, types.NamespacedName{Name: np.Spec.Template.Spec.NodeClassRef.Name}, u); err == nil {
			var c karpenterNodeClass
			if err := fromUnstructured(u, &c); err == nil {
				s := c.spec()
				class = &s
			}
		}
	}
	return rules.ValidateNodePool(ix.Policy.Capacity, np.spec(), class), nil
}

// ec2NodeClass judges an EC2NodeClass write against the NodePools in the cache that use it.
func (h *Handler) ec2NodeClass(ctx context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	var c karpenterNodeClass
	if err := decodeRaw(req, &c); err != nil {
		return rules.Result{}, err
	}
	if !h.opts.Cluster.Known() {
		return rules.Result{Warnings: []string{"EC2NodeClass " + c.Metadata.Name + ": NodePools unknown: kubelet maxPods not checked"}}, nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(nodePoolGVK.GroupVersion().WithKind(rules.KindNodePool + "List"))
	if err := h.opts.Cluster.Reader.List(ctx, list); err != nil {
		return rules.Result{Warnings: []string{"EC2NodeClass " + c.Metadata.Name + ": NodePools not readable: kubelet maxPods not checked"}}, nil
	}
	var pools []rules.NodePoolSpec
	var errs []error
	for i := range list.Items {
		var np karpenterNodePool
		if err := fromUnstructured(&list.Items[i], &np); err != nil {
			errs = append(errs, err)
			continue
		}
		if np.Spec.Template.Spec.NodeClassRef.Name == c.Metadata.Name {
			pools = append(pools, np.spec())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rules.Result{}, err
	}
	return rules.ValidateEC2NodeClass(ix.Policy.Capacity, c.spec(), pools), nil
}
