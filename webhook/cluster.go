package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/schema/rules"
)

// HostnameIndex is the cache field index of HTTPRoutes by normalised hostname.
const HostnameIndex = "enigate.hostnames"

// IndexHTTPRouteHostnames is the indexer function for HostnameIndex.
func IndexHTTPRouteHostnames(o client.Object) []string {
	r, ok := o.(*gwv1.HTTPRoute)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(r.Spec.Hostnames))
	for _, h := range r.Spec.Hostnames {
		out = append(out, rules.NormalizeHostname(string(h)))
	}
	return out
}

// CacheCluster answers the rules' cluster questions from an informer-backed reader (the
// manager's cache): reads are in memory and never block on the API server.
type CacheCluster struct {
	Reader client.Reader
	// Routes is true when HTTPRoutes are cached with HostnameIndex.
	Routes bool
}

var _ rules.Cluster = (*CacheCluster)(nil)

func (c *CacheCluster) Known() bool { return c != nil && c.Reader != nil }

func (c *CacheCluster) GatewayListeners(namespace, name string) ([]string, bool) {
	var g gwv1.Gateway
	if err := c.Reader.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &g); err != nil {
		return nil, false
	}
	out := make([]string, len(g.Spec.Listeners))
	for i, l := range g.Spec.Listeners {
		out[i] = string(l.Name)
	}
	return out, true
}

func (c *CacheCluster) ReferenceGrants(namespace string) []gwv1b1.ReferenceGrant {
	var l gwv1b1.ReferenceGrantList
	if err := c.Reader.List(context.Background(), &l, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return l.Items
}

// RoutesWithHostname lists at most limit cached HTTPRoutes that declare hostname h
// (normalised).
func (c *CacheCluster) RoutesWithHostname(h string, limit int64) []types.NamespacedName {
	if c == nil || !c.Routes {
		return nil
	}
	var l gwv1.HTTPRouteList
	if err := c.Reader.List(context.Background(), &l, client.MatchingFields{HostnameIndex: h}, client.Limit(limit)); err != nil {
		return nil
	}
	out := make([]types.NamespacedName, len(l.Items))
	for i, r := range l.Items {
		out[i] = types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
	}
	return out
}
