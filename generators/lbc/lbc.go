// Package lbc renders the Helm values of the AWS Load Balancer Controller, which provisions the
// NLB behind every Gateway: Cilium's CiliumGatewayClassConfig asks for the Service
// loadBalancerClass service.k8s.aws/nlb, which only this controller serves.
package lbc

import (
	"github.com/enigate/enigate/schema/model"
)

// Chart, namespace and ServiceAccount of the controller. The ServiceAccount's Pod Identity
// association is rendered in the eksctl files, so the chart creates the account without a role
// annotation.
const (
	Repo           = "https://aws.github.io/eks-charts"
	Chart          = "aws-load-balancer-controller"
	Namespace      = "kube-system"
	ServiceAccount = "aws-load-balancer-controller"
	// ValuesFile is where the values are rendered in the overlay.
	ValuesFile = "addons/aws-load-balancer-controller/values.yaml"
)

// ChartVersion is the chart version env pins (versions.awsLoadBalancerController; render
// accepts only the chart of the release whose IAM policy generators/eksctl vendors).
func ChartVersion(env model.Environment) string {
	return env.Versions.AWSLoadBalancerController
}

// eksctlClusterTag is the tag eksctl puts on every stack it creates, which CloudFormation
// propagates to the VPC (eksctl v0.230.0 pkg/cfn/manager/api.go, NewStackCollection;
// pkg/apis/eksctl.io/v1alpha5/types.go, ClusterNameTag).
const eksctlClusterTag = "alpha.eksctl.io/cluster-name"

// Values are the chart's values for env.
func Values(env model.Environment) map[string]any {
	tags := make(map[string]any, len(env.Cluster.Tags))
	for k, v := range env.Cluster.Tags {
		tags[k] = v
	}
	v := map[string]any{
		"clusterName":  env.Cluster.Name,
		"region":       env.Cluster.Region,
		"replicaCount": 2,
		"serviceAccount": map[string]any{
			"create": true,
			"name":   ServiceAccount,
		},
		// Webhook certificates from cert-manager (installed before the controller): the
		// chart's default generates new ones on every render, which GitOps never converges.
		"enableCertManager": true,
		// Gateways set loadBalancerClass themselves; without the Service mutator no Service
		// create waits on this controller's webhook.
		"enableServiceMutatorWebhook": false,
		// Tags on every load balancer, target group and security group it creates.
		"defaultTags": tags,
	}
	if env.VPC.ID != "" {
		v["vpcId"] = env.VPC.ID
	} else {
		// eksctl creates the VPC, so its ID is unknown when rendering; the controller finds it
		// by eksctl's cluster tag instead of the node's instance metadata.
		v["vpcTags"] = map[string]any{eksctlClusterTag: env.Cluster.Name}
	}
	return v
}
