// Tile parts in the depth passes (shadow maps above all): hidden features and what the section
// planes cut away cast no shadow.
#import bevy_pbr::{prepass_io, pbr_prepass_functions}
#import citytwin::feature_state::{feature_state, discard_hidden, discard_sectioned}

fn discard_hidden_feature(in: prepass_io::VertexOutput) {
#ifdef VERTEX_UVS_B
    discard_hidden(feature_state(in.uv_b.x), in.position);
#else ifdef VERTEX_UVS_A
    discard_hidden(feature_state(in.uv.x), in.position);
#endif
    discard_sectioned(in.world_position.xyz);
}

#ifdef PREPASS_FRAGMENT
@fragment
fn fragment(in: prepass_io::VertexOutput, @builtin(front_facing) is_front: bool) -> prepass_io::FragmentOutput {
    pbr_prepass_functions::prepass_alpha_discard(in);
    discard_hidden_feature(in);
    var out: prepass_io::FragmentOutput;
#ifdef UNCLIPPED_DEPTH_ORTHO_EMULATION
    out.frag_depth = in.unclipped_depth;
#endif
#ifdef NORMAL_PREPASS
    out.normal = vec4<f32>(normalize(in.world_normal) * 0.5 + vec3<f32>(0.5), 1.0);
#endif
#ifdef MOTION_VECTOR_PREPASS
    out.motion_vector = pbr_prepass_functions::calculate_motion_vector(in.world_position, in.previous_world_position);
#endif
    return out;
}
#else
@fragment
fn fragment(in: prepass_io::VertexOutput) {
    pbr_prepass_functions::prepass_alpha_discard(in);
    discard_hidden_feature(in);
}
#endif
