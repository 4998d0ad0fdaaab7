// Tile parts: Bevy's standard PBR fragment (bevy_pbr's pbr.wgsl, unlit materials included), with
// the feature's state (hidden, x-ray, colour, highlight) from its tile's table applied to the
// material before lighting, and the section planes' cut with its caps.
#import bevy_pbr::{
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::alpha_discard,
    pbr_types::STANDARD_MATERIAL_FLAGS_UNLIT_BIT,
}
#ifdef PREPASS_PIPELINE
#import bevy_pbr::{
    prepass_io::{VertexOutput, FragmentOutput},
    pbr_deferred_functions::deferred_output,
}
#else
#import bevy_pbr::{
    forward_io::{VertexOutput, FragmentOutput},
    pbr_functions::{apply_pbr_lighting, main_pass_post_lighting_processing},
}
#endif
#import citytwin::feature_state::{feature_state, discard_hidden, state_colour, discard_sectioned, sectioned, cap_normal, CAP_RGB}

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> FragmentOutput {
#ifdef VERTEX_UVS_B
    let state = feature_state(in.uv_b.x);
#else ifdef VERTEX_UVS_A
    let state = feature_state(in.uv.x);
#else
    let state = feature_state(-1.0);
#endif
    discard_hidden(state, in.position);
    discard_sectioned(in.world_position.xyz);
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = state_colour(state, pbr_input.material.base_color);
    if sectioned() && !is_front {
        // A back face seen through the cut: the inside of a solid, filled as the cap.
        pbr_input.material.base_color = vec4<f32>(CAP_RGB, 1.0);
        pbr_input.N = cap_normal(in.world_position.xyz);
        pbr_input.world_normal = pbr_input.N;
    }
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
#ifdef PREPASS_PIPELINE
    let out = deferred_output(in, pbr_input);
#else
    var out: FragmentOutput;
    if (pbr_input.material.flags & STANDARD_MATERIAL_FLAGS_UNLIT_BIT) == 0u {
        out.color = apply_pbr_lighting(pbr_input);
    } else {
        out.color = pbr_input.material.base_color;
    }
    out.color = main_pass_post_lighting_processing(pbr_input, out.color);
#endif
    return out;
}
