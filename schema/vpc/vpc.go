// Package vpc models the VPC of an environment the way eksctl will use it, and checks the
// declaration against what eksctl accepts. Two modes:
//
//   - created: no vpc.id. eksctl creates the VPC from vpc.cidr and carves one public and one
//     private subnet per availability zone (EksctlSubnets models that split).
//   - existing: vpc.id plus subnet ids per AZ; their CIDRs are declared for sizing, and eksctl
//     compares them with the real subnets before it creates anything.
//
// Facts from eksctl v0.230.0 (github.com/weaveworks/eksctl, tag v0.230.0):
// pkg/vpc/vpc.go (SetSubnets, getSubnetNetworkSize, validateVPCCIDR, SplitInto, ImportSubnets),
// pkg/apis/eksctl.io/v1alpha5/vpc.go (MinRequiredAvailabilityZones, HasSufficientSubnets),
// pkg/ctl/cmdutils/configfile.go ("vpc.subnets and availabilityZones cannot be set at the same time").
package vpc

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

const (
	// MinPrefix and MaxPrefix bound the VPC CIDR eksctl creates a VPC from (validateVPCCIDR).
	MinPrefix, MaxPrefix = 16, 24
	// MinAZs is api.MinRequiredAvailabilityZones (also the minimum of subnets per kind).
	MinAZs = 2
	// MaxAZs: getSubnetNetworkSize splits into at most 16 subnets, a public and a private per AZ.
	MaxAZs = 8
	// MinSubnetPrefix and MaxSubnetPrefix are the subnet sizes AWS allows.
	MinSubnetPrefix, MaxSubnetPrefix = 16, 28
)

// Kinds in the order eksctl numbers the subnets it creates: every public subnet first.
const (
	Public  = "public"
	Private = "private"
)

// EksctlSubnets is the split eksctl makes of a VPC it creates (SetSubnets with no local
// zones): with n AZs it cuts the CIDR into 8 equal blocks (n <= 4, prefix +3) or 16 (n <= 8,
// prefix +4); block i is the public subnet of the i-th AZ, block n+i its private subnet, in
// the order of availabilityZones. Blocks beyond 2n stay free.
func EksctlSubnets(cidr string, azs []string) ([]model.Subnet, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("%q is not an IPv4 CIDR", cidr)
	}
	if p.Bits() < MinPrefix || p.Bits() > MaxPrefix {
		return nil, fmt.Errorf("VPC CIDR prefix must be between /%d and /%d", MinPrefix, MaxPrefix)
	}
	n := len(azs)
	var bits int
	switch total := 2 * n; {
	case total == 0:
		return nil, nil
	case total <= 8:
		bits = p.Bits() + 3
	case total <= 16:
		bits = p.Bits() + 4
	default:
		return nil, fmt.Errorf("cannot create more than 16 subnets, %d requested", total)
	}
	base := p.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	block := func(i int) string {
		a := start + uint32(i)<<(32-bits)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits).String()
	}
	out := make([]model.Subnet, 0, 2*n)
	for i, az := range azs {
		out = append(out, model.Subnet{Name: az + "-" + Private, AZ: az, CIDR: block(n + i), Kind: Private})
	}
	for i, az := range azs {
		out = append(out, model.Subnet{Name: az + "-" + Public, AZ: az, CIDR: block(i), Kind: Public})
	}
	return out, nil
}

// Validate checks the VPC declaration of env: an IPv4 VPC CIDR, one mode at a time, eksctl's
// limits for a VPC it creates (prefix length, number of AZs), and for an existing VPC subnets
// with ids, inside the VPC CIDR and disjoint. path is the environment's root (nil: none).
func Validate(env model.Environment, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := env.VPC
	vp := path.Child("vpc")
	vpcCIDR, err := netip.ParsePrefix(v.CIDR)
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(vp.Child("cidr"), v.CIDR, "not a CIDR"))
	case !vpcCIDR.Addr().Is4():
		errs = append(errs, field.Invalid(vp.Child("cidr"), v.CIDR, "is an IPv6 CIDR (Cilium ENI IPAM hands pods IPv4 addresses of the VPC's subnets: declare the VPC's IPv4 CIDR)"))
		err = fmt.Errorf("ipv6")
	case vpcCIDR.Masked() != vpcCIDR:
		errs = append(errs, field.Invalid(vp.Child("cidr"), v.CIDR, fmt.Sprintf("has host bits set (write the network address %s)", vpcCIDR.Masked())))
	}
	if v.ID == "" {
		return append(errs, validateCreated(env, vp, err == nil)...)
	}
	return append(errs, validateExisting(env, vp, vpcCIDR, err == nil)...)
}

func validateCreated(env model.Environment, vp *field.Path, cidrOK bool) field.ErrorList {
	var errs field.ErrorList
	v := env.VPC
	if !v.SubnetsModelled && len(v.Subnets) > 0 {
		errs = append(errs, field.Invalid(vp.Child("subnets"), "", "is set without vpc.id (eksctl takes listed subnets as existing ones and finds them by id, or by CIDR only inside a known VPC: set vpc.id and each subnet's id for an existing VPC, or drop vpc.subnets and list vpc.availabilityZones for eksctl to create them)"))
		return errs
	}
	azp := vp.Child("availabilityZones")
	switch n := len(v.AvailabilityZones); {
	case n < MinAZs:
		errs = append(errs, field.Invalid(azp, v.AvailabilityZones, fmt.Sprintf("lists %d availability zones (eksctl creates a VPC across at least %d)", n, MinAZs)))
	case n > MaxAZs:
		errs = append(errs, field.Invalid(azp, v.AvailabilityZones, fmt.Sprintf("lists %d availability zones (eksctl splits the VPC CIDR into at most 16 subnets, a public and a private one per zone: at most %d)", n, MaxAZs)))
	}
	seen := map[string]bool{}
	for i, az := range v.AvailabilityZones {
		if seen[az] {
			errs = append(errs, field.Duplicate(azp.Index(i), az))
		}
		seen[az] = true
	}
	if cidrOK {
		p := netip.MustParsePrefix(v.CIDR)
		if p.Bits() < MinPrefix || p.Bits() > MaxPrefix {
			errs = append(errs, field.Invalid(vp.Child("cidr"), v.CIDR, fmt.Sprintf("is a /%d (eksctl creates a VPC from a /%d to a /%d)", p.Bits(), MinPrefix, MaxPrefix)))
		}
	}
	return errs
}

func validateExisting(env model.Environment, vp *field.Path, vpcCIDR netip.Prefix, cidrOK bool) field.ErrorList {
	var errs field.ErrorList
	v := env.VPC
	if len(v.AvailabilityZones) > 0 {
		errs = append(errs, field.Invalid(vp.Child("availabilityZones"), v.AvailabilityZones, "is set with vpc.id (an existing VPC's zones are those of its subnets; eksctl refuses availabilityZones beside vpc.subnets)"))
	}
	if v.NAT != "" {
		errs = append(errs, field.Invalid(vp.Child("nat"), v.NAT, "is set with vpc.id (eksctl creates no NAT gateway in an existing VPC: its routing is the VPC owner's; remove nat)"))
	}
	type placed struct {
		path   *field.Path
		prefix netip.Prefix
	}
	var ok []placed
	ids := map[string]string{}
	count := map[string]int{}
	for _, s := range v.Subnets {
		sp := vp.Child("subnets", s.Kind).Key(s.AZ)
		count[s.Kind]++
		if s.ID == "" {
			errs = append(errs, field.Invalid(sp.Child("id"), "", "is missing (eksctl finds an existing subnet by its id and checks the declared cidr against it)"))
		} else if other, dup := ids[s.ID]; dup {
			errs = append(errs, field.Invalid(sp.Child("id"), s.ID, "is also "+other))
		} else {
			ids[s.ID] = sp.String()
		}
		p, err := netip.ParsePrefix(s.CIDR)
		switch {
		case s.Kind == Private && (err != nil || !p.Addr().Is4() || p.Bits() < MinSubnetPrefix || p.Bits() > MaxSubnetPrefix):
			continue // capacity.SubnetUsage reports it with the subnet's sizing
		case err != nil || !p.Addr().Is4():
			errs = append(errs, field.Invalid(sp.Child("cidr"), s.CIDR, "not an IPv4 CIDR (size the subnet by its IPv4 CIDR)"))
			continue
		case p.Masked() != p:
			errs = append(errs, field.Invalid(sp.Child("cidr"), s.CIDR, fmt.Sprintf("has host bits set (write the network address %s)", p.Masked())))
			continue
		case p.Bits() < MinSubnetPrefix || p.Bits() > MaxSubnetPrefix:
			errs = append(errs, field.Invalid(sp.Child("cidr"), s.CIDR, fmt.Sprintf("is a /%d (AWS subnets are /%d to /%d)", p.Bits(), MinSubnetPrefix, MaxSubnetPrefix)))
			continue
		}
		if cidrOK && (p.Bits() < vpcCIDR.Bits() || !vpcCIDR.Contains(p.Addr())) {
			errs = append(errs, field.Invalid(sp.Child("cidr"), s.CIDR, fmt.Sprintf("is not inside the VPC CIDR %s", vpcCIDR)))
		}
		for _, o := range ok {
			if o.prefix.Overlaps(p) {
				errs = append(errs, field.Invalid(sp.Child("cidr"), s.CIDR, fmt.Sprintf("overlaps %s (%s)", DisplayPath(o.path), o.prefix)))
			}
		}
		ok = append(ok, placed{sp, p})
	}
	if count[Private] < MinAZs {
		errs = append(errs, field.Invalid(vp.Child("subnets", Private), count[Private], fmt.Sprintf("has %d subnets (node groups use private networking; eksctl needs at least %d private subnets)", count[Private], MinAZs)))
	}
	if n := count[Public]; n > 0 && n < MinAZs {
		errs = append(errs, field.Invalid(vp.Child("subnets", Public), n, fmt.Sprintf("has %d subnet (eksctl needs none or at least %d public subnets)", n, MinAZs)))
	}
	return errs
}

// DisplayPath writes a field path the way the declaration spells it (map keys as selectors).
func DisplayPath(p *field.Path) string {
	s := p.String()
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], ']')
		b.WriteString(s[:i] + "." + s[i+1:i+j])
		s = s[i+j+1:]
	}
}

// SubnetPath is the declaration path of a subnet under root: vpc.subnets[private][eu-west-1a].
func SubnetPath(root *field.Path, s model.Subnet) *field.Path {
	return root.Child("vpc", "subnets").Key(s.Kind).Key(s.AZ)
}
